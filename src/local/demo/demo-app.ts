// The demo web page's script: pick a demo user, watch friends' presence live, set your own status.
import type { ConnectionStatus, Presence, PresenceOverview, UserInfo } from '../../client';
import { PresenceClient, ago, applyMessage, fetchPresenceOverview, restAuthCheck } from '../../client';

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
let self: Presence | undefined;
/** Profiles by user id (a Map: ids such as `__proto__` or `constructor` are ordinary keys). */
const info = new Map<string, UserInfo>();

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

function presenceRow(p: Presence): HTMLElement {
  const li = el('li', { class: 'friend', 'data-user': p.userId, 'data-status': p.status });
  li.append(el('span', { class: `dot ${p.status}`, title: p.status }));
  const body = el('div', { class: 'body' });
  const head = el('div', { class: 'head' });
  head.append(el('strong', {}, displayName(p.userId)), el('span', { class: 'status' }, p.status));
  if (p.message) head.append(el('span', { class: 'message' }, `“${p.message}”`));
  body.append(head);
  const page = el('div', { class: 'page' });
  if (p.page && p.page.url) {
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

function render(): void {
  const list = $('#friends');
  list.replaceChildren(
    ...[...friends.values()]
      .sort(
        (a, b) => Number(a.status === 'offline') - Number(b.status === 'offline') || a.userId.localeCompare(b.userId),
      )
      .map(presenceRow),
  );
  if (friends.size === 0) list.append(el('li', { class: 'muted' }, me ? 'No friends yet.' : 'Pick a user to begin.'));
  const you = $('#you');
  you.replaceChildren(...(self ? [presenceRow(self)] : []));
}

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
  const overview: PresenceOverview = await fetchPresenceOverview(origin, token);
  info.clear();
  for (const [userId, entry] of Object.entries(overview.userInfoMap)) info.set(userId, entry);
  self = overview.userPresence;
  friends.clear();
  for (const p of overview.presenceArr) friends.set(p.userId, p);
  render();
}

async function pick(userId: string): Promise<void> {
  client?.close();
  me = userId;
  friends.clear();
  self = undefined;
  const url = new URL(window.location.href);
  url.searchParams.set('user', userId);
  window.history.replaceState(null, '', url);
  const response = await fetch('/dev/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ userId }),
  });
  token = ((await response.json()) as { token: string }).token;
  client = new PresenceClient({ url: wsUrl, token: () => token, authCheck: restAuthCheck(origin) });
  client.on('state', setConnection);
  client.on('open', () => {
    log(`connected as ${userId}`);
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
  const status = ($('#status') as HTMLSelectElement).value as ConnectionStatus;
  client.updatePresence({ status });
  client.connect();
  render();
}

async function init(): Promise<void> {
  const select = $('#user') as HTMLSelectElement;
  const { users } = (await (await fetch('/dev/users')).json()) as { users: DemoUser[] };
  for (const u of users) {
    const label = `${[u.firstName, u.lastName].filter(Boolean).join(' ') || u.userId} (${u.userId}, ${u.shareMode}, friends: ${u.friends.join(', ') || 'none'})`;
    select.append(new Option(label, u.userId));
  }
  select.addEventListener('change', () => select.value && void pick(select.value));
  ($('#status') as HTMLSelectElement).addEventListener('change', (e) => {
    client?.setStatus((e.target as HTMLSelectElement).value as ConnectionStatus);
  });
  $('#share').addEventListener('submit', (e) => {
    e.preventDefault();
    const url = ($('#share-url') as HTMLInputElement).value.trim();
    const title = ($('#share-title') as HTMLInputElement).value.trim();
    const message = ($('#share-message') as HTMLInputElement).value.trim();
    client?.updatePresence({ url, title, message: message || null });
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
