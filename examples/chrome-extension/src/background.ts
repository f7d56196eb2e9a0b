// The extension's MV3 service worker: keeps one PresenceClient, reports the active tab, idle -> away, feeds the popup.
import type { Presence } from '../../../src/client';
import {
  PresenceClient,
  applyMessage,
  entryFor,
  fetchPresenceOverview,
  recordByUserId,
  restAuthCheck,
} from '../../../src/client';
import type { ChromeTab } from './chrome-api';
import { chromeApi as chrome } from './chrome-api';
import type { SharedState } from './settings';
import { EMPTY_STATE, loadSettings, webSocketUrl } from './settings';

let client: PresenceClient | undefined;
let clientKey = '';
let state: SharedState = EMPTY_STATE;

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

/** The client for the saved settings, created (and connected) on first use after every worker start. */
async function ensureClient(): Promise<PresenceClient | undefined> {
  const { serverUrl, token } = await loadSettings();
  const key = `${serverUrl}\n${token}`;
  if (client && key === clientKey && client.state !== 'stopped') return client;
  client?.close();
  client = undefined;
  clientKey = key;
  if (!token) {
    await publish({ ...EMPTY_STATE, connection: 'no token', problem: 'Open the options page to set a token.' });
    return undefined;
  }
  const created = new PresenceClient({ url: webSocketUrl(serverUrl), token, authCheck: restAuthCheck(serverUrl) });
  client = created;
  const previous = (await chrome.storage.session.get('presence')).presence as SharedState | undefined;
  state = previous && previous.userId === userIdOf(token) ? previous : { ...EMPTY_STATE, userId: userIdOf(token) };
  created.on('state', (s) => void publish({ connection: s }));
  created.on('open', () => {
    void publish({ problem: null });
    // The snapshot fills the list; pushes keep it current.
    fetchPresenceOverview(serverUrl, token)
      .then((o) => {
        const friends = recordByUserId(o.presenceArr.map((p): [string, Presence] => [p.userId, p]));
        return publish({ self: o.userPresence, friends, info: o.userInfoMap });
      })
      .catch(() => undefined);
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
  created.on(
    'auth-failed',
    ({ reason }) => void publish({ problem: `Token ${reason}: get a new one on the options page.` }),
  );
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
chrome.runtime.onStartup.addListener(() => void reportTab());
chrome.runtime.onInstalled.addListener(() => void reportTab());

void reportTab();
