// The extension's MV3 service worker: keeps one PresenceClient, reports the active tab, idle -> away, feeds the popup.
// Friends' page switches are followed (detail `full`) only while the popup is open; otherwise `status` detail saves the
// paid deliveries of page switches nobody looks at, and the popup's opening takes a REST snapshot of the pages.
import type { Presence } from '../../../src/client';
import {
  PresenceClient,
  applyMessage,
  entryFor,
  fetchPresenceOverview,
  recordByUserId,
  restAuthCheck,
} from '../../../src/client';
import type { ChromePort, ChromeTab } from './chrome-api';
import { chromeApi as chrome } from './chrome-api';
import type { SharedState } from './settings';
import { EMPTY_STATE, loadSettings, webSocketUrl } from './settings';

let client: PresenceClient | undefined;
let clientKey = '';
let state: SharedState = EMPTY_STATE;
/** The ports of open popups: while there is one, friends' pages are followed live. */
const popups = new Set<ChromePort>();
/** The detail last asked of the current client. */
let requestedDetail: 'full' | 'status' | undefined;
/**
 * Bumped by every change of interest (asked or confirmed): a snapshot marks the pages current only if none happened
 * while it was in flight, so a popup closed meanwhile does not leave pages marked current at `status` detail.
 */
let interestChanges = 0;

const wantedDetail = (): 'full' | 'status' => (popups.size > 0 ? 'full' : 'status');

async function publish(patch: Partial<SharedState>): Promise<void> {
  state = { ...state, ...patch };
  await chrome.storage.session.set({ presence: state });
}

function userIdOf(token: string): string | null {
  try {
    const payload = JSON.parse(atob((token.split('.')[1] ?? '').replace(/-/g, '+').replace(/_/g, '/'))) as Record<
      string,
      unknown
    >;
    const id = payload['cognito:username'] ?? payload.username ?? payload.sub;
    return typeof id === 'string' ? id : null;
  } catch {
    return null;
  }
}

/**
 * Loads `GET /presence` into the shared state. Entries not newer than what was pushed meanwhile (by `v`) are kept as
 * they are; friends missing from the snapshot are dropped. With `current`, the pages are marked current, unless the
 * interest changed while the snapshot was in flight.
 */
async function takeSnapshot(c: PresenceClient, serverUrl: string, token: string, current: boolean): Promise<void> {
  const asked = interestChanges;
  const o = await fetchPresenceOverview(serverUrl, token);
  if (c !== client) return;
  const friends = recordByUserId(
    o.presenceArr.map((p): [string, Presence] => [
      p.userId,
      c.accept(p.userId, p.v) ? p : (entryFor(state.friends, p.userId) ?? p),
    ]),
  );
  const self = c.accept(o.userPresence.userId, o.userPresence.v) ? o.userPresence : (state.self ?? o.userPresence);
  const pagesCurrent = current && asked === interestChanges && state.detail === 'full' ? true : state.pagesCurrent;
  await publish({ self, friends, info: o.userInfoMap, pagesCurrent });
}

/** Asks the server for the detail the popup's state calls for (sent on the next open when not connected). */
function applyInterest(c: PresenceClient): void {
  const detail = wantedDetail();
  if (detail === requestedDetail) return;
  requestedDetail = detail;
  interestChanges += 1;
  // From now on page switches are not pushed: what is held may go stale.
  if (detail === 'status') void publish({ pagesCurrent: false });
  c.subscribe({ detail });
}

/** The client for the saved settings, created (and connected) on first use after every worker start. */
async function ensureClient(): Promise<PresenceClient | undefined> {
  const { serverUrl, token } = await loadSettings();
  const key = `${serverUrl}\n${token}`;
  if (client && key === clientKey && client.state !== 'stopped') return client;
  client?.close();
  client = undefined;
  clientKey = key;
  requestedDetail = undefined;
  if (!token) {
    await publish({ ...EMPTY_STATE, connection: 'no token', problem: 'Open the options page to set a token.' });
    return undefined;
  }
  // Batches: a sweep or a burst that has several friends' changes ready arrives as one message.
  const created = new PresenceClient({
    url: webSocketUrl(serverUrl),
    token,
    authCheck: restAuthCheck(serverUrl),
    batch: true,
  });
  client = created;
  const previous = (await chrome.storage.session.get('presence')).presence as SharedState | undefined;
  const fresh = { detail: null, pagesCurrent: false, protocol: null, batches: 0 };
  state =
    previous && previous.userId === userIdOf(token)
      ? { ...EMPTY_STATE, ...previous, ...fresh }
      : { ...EMPTY_STATE, userId: userIdOf(token) };
  created.on('state', (s) => void publish({ connection: s }));
  created.on('open', ({ protocol }) => {
    // Whatever changed while disconnected was missed: the pages are current again only after a `full` snapshot.
    void publish({ problem: null, protocol, pagesCurrent: false });
    // The snapshot fills the list (statuses; pages only when asked at `full`, below); pushes keep it current.
    takeSnapshot(created, serverUrl, token, false).catch(() => undefined);
  });
  created.on('subscribed', ({ detail }) => {
    interestChanges += 1;
    void publish({ detail, ...(detail === 'status' ? { pagesCurrent: false } : {}) });
    // Pushes carry every change from here on; the snapshot brings the pages that switched before.
    if (detail === 'full') takeSnapshot(created, serverUrl, token, true).catch(() => undefined);
  });
  // Friends by id: computed keys and spreads define own properties, and lookups read own entries only, so an id such
  // as `__proto__` or `constructor` is an ordinary key.
  const withFriend = (m: Parameters<typeof applyMessage>[1]) =>
    publish({ friends: { ...state.friends, [m.userId]: applyMessage(entryFor(state.friends, m.userId), m) } });
  created.on('update-presence', (m) => {
    if (m.userId === state.userId) void publish({ self: applyMessage(state.self ?? undefined, m) });
    else void withFriend(m);
  });
  created.on('presence-timeout', (m) => void withFriend(m));
  // The client emits a batch's elements as the events above; only the count is kept here.
  created.on('presence-batch', () => void publish({ batches: state.batches + 1 }));
  created.on(
    'auth-failed',
    ({ reason }) => void publish({ problem: `Token ${reason}: get a new one on the options page.` }),
  );
  applyInterest(created);
  created.connect();
  return created;
}

/** Reports `tab` (or the active tab) as the current page. */
async function reportTab(tab?: ChromeTab): Promise<void> {
  const c = await ensureClient();
  if (!c) return;
  const active = tab ?? (await chrome.tabs.query({ active: true, lastFocusedWindow: true }))[0];
  if (!active?.url) return;
  const current = c.presence;
  if (current.url === active.url && current.title === (active.title ?? '')) return;
  c.updatePresence({ url: active.url, title: active.title ?? '' });
}

chrome.tabs.onActivated.addListener(({ tabId }) => {
  void chrome.tabs
    .get(tabId)
    .then((tab) => reportTab(tab))
    .catch(() => undefined);
});
chrome.tabs.onUpdated.addListener((_tabId, change, tab) => {
  if (tab.active && (change.url !== undefined || change.title !== undefined || change.status === 'complete'))
    void reportTab(tab);
});
chrome.windows.onFocusChanged.addListener((windowId) => {
  if (windowId !== chrome.windows.WINDOW_ID_NONE) void reportTab();
});
chrome.idle.setDetectionInterval(300);
chrome.idle.onStateChanged.addListener((idleState) => {
  void ensureClient().then((c) => c?.setStatus(idleState === 'active' ? 'online' : 'away'));
});
chrome.storage.onChanged.addListener((changes, area) => {
  if (area === 'local' && (changes.token || changes.serverUrl)) void reportTab();
});
// A stopped worker comes back on the next event; the alarm is one more such event, so the connection returns by itself.
void chrome.alarms.create('presence-keepalive', { periodInMinutes: 1 });
chrome.alarms.onAlarm.addListener(() => void reportTab());
// The popup holds a port open while it is shown: follow pages live then, and go back to `status` when it closes.
chrome.runtime.onConnect.addListener((port) => {
  if (port.name !== 'popup') return;
  popups.add(port);
  port.onDisconnect.addListener(() => {
    popups.delete(port);
    if (client) applyInterest(client);
  });
  void ensureClient().then((c) => c && applyInterest(c));
});
chrome.runtime.onStartup.addListener(() => void reportTab());
chrome.runtime.onInstalled.addListener(() => void reportTab());

void reportTab();
