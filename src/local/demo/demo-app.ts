// The demo web page's script: pick a demo user, watch friends' presence live, set your own status, choose the detail
// friends' changes arrive at (full / status) and whether they may come in batches (presence.v2).
import type { ConnectionStatus, Presence, PresenceOverview, UserInfo } from '../../client';
import { PresenceClient, ago, applyMessage, fetchPresenceOverview, restAuthCheck } from '../../client';
import { startOperatorView } from './operator-view';
import { GroupView } from './group-view';

interface DemoUser {
  userId: string;
  firstName: string | null;
  lastName: string | null;
  shareMode: string;
  friends: string[];
}

const $ = <T extends HTMLElement>(selector: string): T => document.querySelector(selector) as T;
const origin = window.location.origin;
const wsUrl = `${origin.replace(/^http/, 'ws')}/ws`;

let client: PresenceClient | undefined;
let me: string | undefined;
let token = '';
const friends = new Map<string, Presence>();
/** The user's own presence as the server keeps it (their real state: invisible included). */
let self: Presence | undefined;
/** Profiles by user id (a Map: ids such as `__proto__` or `constructor` are ordinary keys). */
const info = new Map<string, UserInfo>();
/** Bumped by every pick, so answers for a previous user are dropped. */
let session = 0;
/**
 * What the server confirmed this connection receives (`subscribed`), the subprotocol it accepted, the batches seen, and
 * whether friends' pages are current (not after a time at status detail, until a snapshot has been read again).
 */
const interest = {
  detail: null as 'full' | 'status' | null,
  protocol: '',
  batches: 0,
  pagesFollowed: true,
};

function displayName(userId: string): string {
  const u = info.get(userId);
  const name = [u?.first_name, u?.last_name].filter(Boolean).join(' ');
  return name || userId;
}

function el(tag: string, attrs: Record<string, string> = {}, text?: string): HTMLElement {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A presence row; without `pagesFollowed` (status detail) the page is left out: page switches are not pushed then. */
function presenceRow(p: Presence, pagesFollowed = true): HTMLElement {
  const li = el('li', { class: 'friend', 'data-user': p.userId, 'data-status': p.status });
  li.append(el('span', { class: `dot ${p.status}`, title: p.status }));
  const body = el('div', { class: 'body' });
  const head = el('div', { class: 'head' });
  head.append(el('strong', {}, displayName(p.userId)), el('span', { class: 'status' }, p.status));
  if (p.message) head.append(el('span', { class: 'message' }, `“${p.message}”`));
  body.append(head);
  const page = el('div', { class: 'page' });
  if (!pagesFollowed && p.status !== 'offline') {
    page.append(el('span', { class: 'muted' }, 'page not followed at status detail'));
  } else if (p.page && p.page.url) {
    const link = el(
      'a',
      { class: 'page-title', href: p.page.url, target: '_blank', rel: 'noreferrer', 'data-url': p.page.url },
      p.page.title || p.page.url,
    );
    page.append(link, el('span', { class: 'domain' }, p.page.domain));
  } else if (p.status !== 'offline') {
    page.append(el('span', { class: 'muted' }, 'page not shared'));
  } else if (p.latestPage?.url) {
    page.append(el('span', { class: 'muted' }, `last on ${p.latestPage.domain}`));
  }
  body.append(
    page,
    el(
      'div',
      { class: 'seen muted' },
      p.status === 'offline' ? `last seen ${ago(p.lastSeen)}` : `active ${ago(p.lastSeen)}`,
    ),
  );
  li.append(body);
  return li;
}

/** The "You" panel: your own real state, as the server keeps it (what friends see is noted when it differs). */
function selfRow(p: Presence): HTMLElement {
  const li = presenceRow(p);
  li.id = 'you-presence';
  if (p.status === 'invisible') {
    li.querySelector('.body')?.append(el('div', { class: 'note muted' }, 'friends see you as offline'));
  }
  const page = li.querySelector('.page');
  if (page && p.page?.url) page.prepend(el('span', { class: 'muted' }, 'sharing '));
  return li;
}

/** Keeps the status box on the user's real status (after a reload, another tab's change, a pushed update). */
function syncStatusBox(): void {
  const status = self?.status;
  if (status && status !== 'offline') ($('#status') as HTMLSelectElement).value = status;
}

function render(): void {
  const list = $('#friends');
  list.replaceChildren(
    ...[...friends.values()]
      .sort(
        (a, b) => Number(a.status === 'offline') - Number(b.status === 'offline') || a.userId.localeCompare(b.userId),
      )
      .map((p) => presenceRow(p, interest.pagesFollowed)),
  );
  if (friends.size === 0) list.append(el('li', { class: 'muted' }, me ? 'No friends yet.' : 'Pick a user to begin.'));
  const you = $('#you');
  you.replaceChildren(...(self ? [selfRow(self)] : []));
  syncStatusBox();
  renderInterest();
}

/** The interest line: the detail the server confirmed, whether batches are on, how many arrived. */
function renderInterest(): void {
  const line = $('#interest');
  line.dataset.detail = interest.detail ?? '';
  line.dataset.protocol = interest.protocol;
  line.dataset.batches = String(interest.batches);
  line.textContent = interest.detail
    ? `detail ${interest.detail} (confirmed) · ${
        interest.protocol === 'presence.v2' ? `batches on, ${interest.batches} received` : 'batches off'
      }`
    : '';
}

const chosenDetail = (): 'full' | 'status' =>
  ($('#detail') as HTMLSelectElement).value === 'status' ? 'status' : 'full';

function log(line: string): void {
  const entry = el('li', {}, `${new Date().toLocaleTimeString()}  ${line}`);
  const events = $('#events');
  events.prepend(entry);
  while (events.children.length > 30) events.lastElementChild?.remove();
}

function setConnection(state: string): void {
  const badge = $('#connection');
  badge.textContent = state;
  badge.dataset.state = state;
}

async function loadSnapshot(): Promise<void> {
  const mine = session;
  const overview: PresenceOverview = await fetchPresenceOverview(origin, token);
  if (mine !== session) return;
  info.clear();
  for (const [userId, entry] of Object.entries(overview.userInfoMap)) info.set(userId, entry);
  self = overview.userPresence;
  // A friend pushed meanwhile with a newer version keeps the pushed state.
  const held = new Map(friends);
  friends.clear();
  for (const p of overview.presenceArr)
    friends.set(p.userId, client?.accept(p.userId, p.v) === false ? (held.get(p.userId) ?? p) : p);
  if (chosenDetail() === 'full' && interest.detail !== 'status') interest.pagesFollowed = true;
  const message = $('#share-message') as HTMLInputElement;
  if (document.activeElement !== message) message.value = self.message ?? '';
  render();
}

/**
 * Re-reads your own presence (GET /presence `userPresence`) after you changed it: the server does not echo an update
 * to the connection that sent it, and only it knows what was applied (the page as your privacy settings share it).
 * It waits until the server has processed the update: your own `lastSeen` is set to the time of every update it
 * applies (the local stack runs on this machine: one clock).
 */
async function refreshSelf(sentAt: number): Promise<void> {
  const mine = session;
  for (const delay of [60, 120, 250, 500, 1000]) {
    await new Promise((r) => setTimeout(r, delay));
    if (mine !== session) return;
    const overview = await fetchPresenceOverview(origin, token);
    if (mine !== session) return;
    self = overview.userPresence;
    render();
    if ((self.lastSeen ?? 0) >= sentAt) return;
  }
}

/** Sends your own update, then shows what the server made of it. */
function updateOwnPresence(update: Parameters<PresenceClient['updatePresence']>[0]): void {
  if (!client) return;
  const sentAt = Date.now();
  client.updatePresence(update);
  void refreshSelf(sentAt)
    .then(() => groupView?.refresh())
    .catch((e: unknown) => log(`refresh failed: ${String(e)}`));
}

async function pick(userId: string): Promise<void> {
  client?.close();
  session += 1;
  me = userId;
  friends.clear();
  self = undefined;
  showPickedUser();
  const url = new URL(window.location.href);
  url.searchParams.set('user', userId);
  window.history.replaceState(null, '', url);
  const response = await fetch('/dev/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ userId }),
  });
  token = ((await response.json()) as { token: string }).token;
  const batch = ($('#batch') as HTMLInputElement).checked;
  Object.assign(interest, { detail: null, protocol: '', batches: 0, pagesFollowed: chosenDetail() === 'full' });
  client = new PresenceClient({ url: wsUrl, token: () => token, authCheck: restAuthCheck(origin), batch });
  // Sent once the connection opens (and again after every reconnect); the `subscribed` reply says what is in effect.
  client.subscribe({ detail: chosenDetail() });
  client.on('state', setConnection);
  client.on('subscribed', (m) => {
    interest.detail = m.detail;
    log(`subscribed: detail ${m.detail}`);
    if (m.detail === 'status') interest.pagesFollowed = false;
    // Pages switched while at status detail were not pushed: read them again (pushes cover every change from now on).
    else if (!interest.pagesFollowed) void loadSnapshot().catch((e: unknown) => log(`snapshot failed: ${String(e)}`));
    render();
  });
  client.on('presence-batch', (m) => {
    interest.batches += 1;
    log(`presence-batch of ${m.changes.length} changes`);
    renderInterest();
  });
  client.on('open', ({ protocol }) => {
    interest.protocol = protocol;
    log(`connected as ${userId}${protocol === 'presence.v2' ? ' (presence.v2: batches on)' : ''}`);
    void loadSnapshot().catch((e: unknown) => log(`snapshot failed: ${String(e)}`));
  });
  client.on('update-presence', (m) => {
    log(`${m.userId}: ${m.status}${m.url ? ` on ${m.domain}` : ''}`);
    if (m.userId === me) self = applyMessage(self, m);
    else friends.set(m.userId, applyMessage(friends.get(m.userId), m));
    render();
  });
  client.on('presence-timeout', (m) => {
    log(`${m.userId}: offline`);
    friends.set(m.userId, applyMessage(friends.get(m.userId), m));
    render();
  });
  client.on('server-error', (m) => log(`error ${m.code}: ${m.message ?? ''}`));
  client.on('auth-failed', ({ reason }) => log(`token ${reason}: pick the user again`));
  // No status is sent on connect: a new connection starts with your standing choice (busy, invisible), which the
  // snapshot then shows, and the status box follows it.
  client.connect();
  void groupView?.attach(client, token, userId).catch((e: unknown) => log(`groups failed: ${String(e)}`));
  render();
}

let groupView: GroupView | undefined;

/** The picker's details line: the picked user's sharing mode and friends (kept out of the option text, which stays short). */
function showPickedUser(): void {
  const u = users.find((x) => x.userId === me);
  $('#user-details').textContent = u
    ? `${u.shareMode === 'default_all' ? 'shares pages by default' : 'shares only allowed sites'} · friends: ${u.friends.join(', ') || 'none'}`
    : '';
}

let users: DemoUser[] = [];

async function init(): Promise<void> {
  groupView = new GroupView({ origin, row: presenceRow, log });
  const select = $('#user') as HTMLSelectElement;
  users = ((await (await fetch('/dev/users')).json()) as { users: DemoUser[] }).users;
  for (const u of users) {
    const name = [u.firstName, u.lastName].filter(Boolean).join(' ');
    select.append(new Option(name && name !== u.userId ? `${name} (${u.userId})` : u.userId, u.userId));
  }
  select.addEventListener('change', () => select.value && void pick(select.value));
  $('#detail').addEventListener('change', () => {
    if (chosenDetail() === 'status') interest.pagesFollowed = false;
    client?.subscribe({ detail: chosenDetail() });
    render();
  });
  // The subprotocol is chosen when connecting: opting in or out means a new connection.
  $('#batch').addEventListener('change', () => me && void pick(me));
  ($('#status') as HTMLSelectElement).addEventListener('change', (e) => {
    updateOwnPresence({ status: (e.target as HTMLSelectElement).value as ConnectionStatus });
  });
  $('#share').addEventListener('submit', (e) => {
    e.preventDefault();
    const url = ($('#share-url') as HTMLInputElement).value.trim();
    const title = ($('#share-title') as HTMLInputElement).value.trim();
    const message = ($('#share-message') as HTMLInputElement).value.trim();
    updateOwnPresence({ url, title, message: message || null });
  });
  setInterval(render, 15_000);
  const wanted = new URLSearchParams(window.location.search).get('user');
  if (wanted && users.some((u) => u.userId === wanted)) {
    select.value = wanted;
    await pick(wanted);
  }
  render();
}

void init();
startOperatorView();
