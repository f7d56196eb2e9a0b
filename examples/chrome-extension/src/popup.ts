// The popup: the user's friends with status, page and "active N min ago", from the state the worker shares. While it is
// open it holds a port to the worker, which then follows friends' pages live (detail `full`).
import type { Presence } from '../../../src/client';
import { entryFor } from '../../../src/client';
import { chromeApi as chrome } from './chrome-api';
import type { SharedState } from './settings';
import { EMPTY_STATE, ago } from './settings';

function el(tag: string, attrs: Record<string, string> = {}, text?: string): HTMLElement {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function row(p: Presence, state: SharedState): HTMLElement {
  const info = entryFor(state.info, p.userId);
  const name = [info?.first_name, info?.last_name].filter(Boolean).join(' ') || p.userId;
  const li = el('li', { class: 'friend', 'data-user': p.userId, 'data-status': p.status });
  li.append(el('span', { class: `dot ${p.status}`, title: p.status }));
  const body = el('div', { class: 'body' });
  body.append(el('div', { class: 'name' }, `${name}${p.message ? ` · “${p.message}”` : ''}`));
  if (p.page?.url && !state.pagesCurrent) {
    // Taken at `status` detail: the page may have switched since; the worker's snapshot replaces it in a moment.
    body.append(el('span', { class: 'domain updating' }, 'page updating…'));
  } else if (p.page?.url) {
    const link = el(
      'a',
      { href: p.page.url, target: '_blank', class: 'page', title: p.page.url },
      p.page.title || p.page.url,
    );
    body.append(link, el('span', { class: 'domain' }, ` ${p.page.domain}`));
  }
  body.append(el('div', { class: 'seen' }, `${p.status === 'offline' ? 'last seen' : 'active'} ${ago(p.lastSeen)}`));
  li.append(body);
  return li;
}

function render(state: SharedState): void {
  (document.getElementById('me') as HTMLElement).textContent = state.userId ?? 'not signed in';
  const connection = document.getElementById('connection') as HTMLElement;
  connection.textContent = state.connection;
  connection.dataset.state = state.connection;
  (document.getElementById('problem') as HTMLElement).textContent = state.problem ?? '';
  const friends = Object.values(state.friends).sort(
    (a, b) => Number(a.status === 'offline') - Number(b.status === 'offline') || a.userId.localeCompare(b.userId),
  );
  const list = document.getElementById('friends') as HTMLElement;
  list.replaceChildren(...friends.map((p) => row(p, state)));
  if (friends.length === 0) list.append(el('li', { class: 'empty' }, 'No friends to show yet.'));
  const interest = document.getElementById('interest') as HTMLElement;
  interest.dataset.detail = state.detail ?? '';
  interest.dataset.protocol = state.protocol ?? '';
  interest.dataset.batches = String(state.batches);
  interest.textContent = [
    state.detail === 'full' ? 'live pages' : state.detail === 'status' ? 'status only' : '',
    state.protocol === 'presence.v2' ? `batches on (${state.batches} received)` : '',
  ]
    .filter(Boolean)
    .join(' · ');
}

async function load(): Promise<void> {
  render(((await chrome.storage.session.get('presence')).presence as SharedState | undefined) ?? EMPTY_STATE);
}

chrome.storage.onChanged.addListener((changes, area) => {
  if (area === 'session' && changes.presence?.newValue) render(changes.presence.newValue as SharedState);
});
document.getElementById('options')?.addEventListener('click', (e) => {
  e.preventDefault();
  void chrome.runtime.openOptionsPage();
});
/**
 * Tells the worker the popup is open: the port closes with the popup. If the worker stops meanwhile, the port closes
 * on this side: open it again (which starts the worker), so the popup keeps live pages.
 */
function holdPort(): void {
  chrome.runtime.connect({ name: 'popup' }).onDisconnect.addListener(() => setTimeout(holdPort, 1000));
}

holdPort();
setInterval(() => void load(), 15_000);
void load();
