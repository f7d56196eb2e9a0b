// Browser e2e of interest and batches: the real extension in headless Chromium follows friends at status detail while
// its popup is closed and at full detail (with a fresh REST snapshot) while it is open, and opts in to batches; the demo
// page's detail toggle and batch opt-in do the same by hand.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page, Worker } from 'playwright-core';
import { buildExtension } from '../../examples/chrome-extension/build';
import type { ChromeApi } from '../../examples/chrome-extension/src/chrome-api';
import type { SharedState } from '../../examples/chrome-extension/src/settings';
import { shardOf } from '../../src/layer/adapters/redis/keys';
import { EXTENSION_ID } from '../../src/local/local-stack';
import { launchPlainBrowser, launchWithExtension } from './support/chromium';
import type { StackProcess } from './support/stack-process';
import { devToken, postJson, startStackProcess } from './support/stack-process';
import { WsPeer } from './support/ws-peer';

jest.setTimeout(120_000);

const WIKI = 'https://en.wikipedia.org/wiki/Presence';
const GITHUB = 'https://github.com/presence-api/presence';
const MDN = 'https://developer.mozilla.org/en-US/docs/Web/API/WebSocket';
const RFC = 'https://www.rfc-editor.org/rfc/rfc6455';

let stack: StackProcess;
const peers: WsPeer[] = [];

beforeAll(async () => {
  stack = await startStackProcess({ GRACE_SECONDS: '1', SWEEP_INTERVAL_SECONDS: '1' });
});

afterAll(async () => {
  await Promise.all(peers.map((p) => p.close()));
  await stack?.stop();
});

/**
 * Creates `watcher` and two friends of theirs (also friends of each other) whose ids fall in one shard: changes of both
 * that become due in the same sweep pass are drained together, so a connection that opted in gets them as one batch.
 */
async function createTrio(tag: string): Promise<{ watcher: string; bea: string; cal: string }> {
  const bea = `${tag}-bea`;
  let n = 0;
  while (shardOf(`${tag}-cal-${n}`) !== shardOf(bea)) n += 1;
  const ids = { watcher: `${tag}-ann`, bea, cal: `${tag}-cal-${n}` };
  for (const userId of Object.values(ids)) {
    const body = {
      userId,
      firstName: userId,
      lastName: 'Test',
      shareMode: 'default_all',
      domainAllow: [],
      domainDeny: [],
    };
    expect(await postJson(stack.url, '/dev/users', body)).toBe(201);
  }
  for (const [userId1, userId2] of [
    [ids.watcher, ids.bea],
    [ids.watcher, ids.cal],
    [ids.bea, ids.cal],
  ] as const)
    expect(await postJson(stack.url, '/dev/friendships', { userId1, userId2, accepted: true })).toBe(201);
  return ids;
}

/** Connects `userId` as a plain WebSocket peer (full detail) on `url`; closed after all tests. */
async function connectPeer(userId: string, url?: string): Promise<WsPeer> {
  const peer = await WsPeer.connect(stack.wsUrl, await devToken(stack.url, userId));
  peers.push(peer);
  peer.heartbeatEvery(10_000);
  if (url) peer.send({ action: 'update-presence', url, title: url });
  return peer;
}

/**
 * `bea` switches to `url`, and `cal` (a full-detail friend of hers) waits until it is delivered; then `cal` changes
 * status. When the watcher at status detail has the status change, bea's switch was delivered (to those who want it)
 * before it, so it is not merely late.
 */
async function pageSwitchThenStatus(bea: WsPeer, beaId: string, cal: WsPeer, url: string, status: string) {
  bea.send({ action: 'update-presence', url, title: url });
  await cal.waitFor((m) => m.userId === beaId && m.url === url, 5000, `bea on ${url} for cal`);
  cal.send({ action: 'update-presence', status });
}

/**
 * Closes both friends at once, so their grace deadlines fall within milliseconds of each other and one sweep pass
 * reports both offline. A pass can (rarely) start between the two deadlines and report them one by one: then both are
 * connected again and the round is repeated, at most three times. Resolves with the new peers of the last round.
 */
async function offlineTogether(
  friends: { bea: string; cal: string },
  current: [WsPeer, WsPeer],
  batchesSeen: () => Promise<number>,
  bothShown: (offline: boolean) => Promise<void>,
): Promise<void> {
  let pair = current;
  for (let round = 1; ; round += 1) {
    const before = await batchesSeen();
    await Promise.all(pair.map((p) => p.close()));
    await bothShown(true);
    if ((await batchesSeen()) > before || round === 3) return;
    pair = [await connectPeer(friends.bea), await connectPeer(friends.cal)];
    await bothShown(false);
  }
}

describe('the extension follows pages only while its popup is open, and takes batches', () => {
  let extensionDir: string;
  let a: { context: BrowserContext; cleanup: () => Promise<void> } | undefined;
  let worker: Worker;
  let ids: { watcher: string; bea: string; cal: string };
  let bea: WsPeer;
  let cal: WsPeer;
  let popup: Page | undefined;

  /** The state the worker shares with the popup (chrome.storage.session). */
  const shared = async (): Promise<SharedState> =>
    (await worker.evaluate(async () => {
      const { chrome } = globalThis as unknown as { chrome: ChromeApi };
      return (await chrome.storage.session.get('presence')).presence;
    })) as SharedState;
  /** Polls the shared state until `predicate` holds; returns it, or throws with the last state seen. */
  const sharedWhen = async (predicate: (s: SharedState) => boolean, what: string, timeoutMs = 8000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const state = await shared();
      if (state && predicate(state)) return state;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; state: ${JSON.stringify(state)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const friend = (s: SharedState, userId: string) => Object.entries(s.friends).find(([id]) => id === userId)?.[1];

  beforeAll(async () => {
    extensionDir = await buildExtension(mkdtempSync(join(tmpdir(), 'presence-e2e-extension-')));
    ids = await createTrio('ext');
    cal = await connectPeer(ids.cal, MDN);
    bea = await connectPeer(ids.bea, WIKI);
    await cal.waitFor((m) => m.userId === ids.bea && m.url === WIKI, 5000, 'bea on WIKI for cal');
    a = await launchWithExtension(extensionDir);
    worker =
      a.context.serviceWorkers().find((w) => w.url().startsWith(`chrome-extension://${EXTENSION_ID}/`)) ??
      (await a.context.waitForEvent('serviceworker', {
        predicate: (w) => w.url().startsWith(`chrome-extension://${EXTENSION_ID}/`),
        timeout: 15_000,
      }));
    // Sign in as the watcher (what the options page saves).
    const settings = { serverUrl: stack.url, token: await devToken(stack.url, ids.watcher) };
    await worker.evaluate(async (items) => {
      const { chrome } = globalThis as unknown as { chrome: ChromeApi };
      await chrome.storage.local.set(items);
    }, settings);
  });

  afterAll(async () => {
    await popup?.close().catch(() => undefined);
    await a?.cleanup();
    if (extensionDir) rmSync(extensionDir, { recursive: true, force: true });
  });

  it('connects with presence.v2 at status detail while the popup is closed: a status change arrives, a page switch does not', async () => {
    // Arrange
    const before = await sharedWhen(
      (s) => s.detail === 'status' && friend(s, ids.bea)?.page?.url === WIKI && friend(s, ids.cal)?.status === 'online',
      'status detail with both friends from the snapshot',
    );
    // Act
    await pageSwitchThenStatus(bea, ids.bea, cal, GITHUB, 'busy');
    // Assert
    const after = await sharedWhen((s) => friend(s, ids.cal)?.status === 'busy', 'cal busy');
    expect(before).toMatchObject({ connection: 'open', protocol: 'presence.v2', pagesCurrent: false });
    expect(friend(after, ids.bea)?.page?.url).toBe(WIKI);
    expect(after.pagesCurrent).toBe(false);
  });

  it('follows pages at full detail while the popup is open: the snapshot shows the page switched meanwhile, then switches live', async () => {
    // Arrange: record every page link the popup ever renders, from its first paint on
    popup = await a!.context.newPage();
    await popup.addInitScript(() => {
      const seen: string[] = [];
      (window as unknown as { pagesShown: string[] }).pagesShown = seen;
      new MutationObserver(() => {
        for (const link of Array.from(document.querySelectorAll<HTMLAnchorElement>('li.friend a.page')))
          seen.push(`${link.closest('li')?.getAttribute('data-user')} ${link.href}`);
      }).observe(document, { childList: true, subtree: true });
    });
    // Act: open the popup
    await popup.goto(`chrome-extension://${EXTENSION_ID}/popup.html`);
    // Assert: the worker subscribed full (the server confirmed it), and the popup shows bea's current page
    await sharedWhen((s) => s.detail === 'full' && s.pagesCurrent, 'full detail with current pages');
    await popup.waitForSelector(`li.friend[data-user="${ids.bea}"] a.page[href="${GITHUB}"]`, { timeout: 5000 });
    await popup.waitForSelector('#interest[data-detail="full"][data-protocol="presence.v2"]', { timeout: 5000 });
    // Act: a page switch while the popup is open
    bea.send({ action: 'update-presence', url: MDN, title: 'MDN' });
    // Assert: it is shown live, and the stale page (taken at status detail) never was
    await popup.waitForSelector(`li.friend[data-user="${ids.bea}"] a.page[href="${MDN}"]`, { timeout: 5000 });
    const shown = await popup.evaluate(() => (window as unknown as { pagesShown: string[] }).pagesShown);
    expect(shown).toContain(`${ids.bea} ${GITHUB}`);
    expect(shown).not.toContain(`${ids.bea} ${WIKI}`);
  });

  it('goes back to status detail when the popup closes', async () => {
    // Act
    await popup!.close();
    popup = undefined;
    await sharedWhen((s) => s.detail === 'status', 'status detail again');
    await pageSwitchThenStatus(bea, ids.bea, cal, RFC, 'online');
    // Assert
    const after = await sharedWhen((s) => friend(s, ids.cal)?.status === 'online', 'cal online');
    expect(friend(after, ids.bea)?.page?.url).toBe(MDN);
    expect(after.pagesCurrent).toBe(false);
  });

  it('applies a presence-batch: both friends going offline in one sweep pass arrive as one message', async () => {
    // Arrange
    const { batches: before } = await shared();
    // Act
    await offlineTogether(
      ids,
      [bea, cal],
      async () => (await shared()).batches,
      async (offline) => {
        const shown = (userId: string, s: SharedState) => (friend(s, userId)?.status === 'offline') === offline;
        await sharedWhen((s) => shown(ids.bea, s) && shown(ids.cal, s), `both friends ${offline ? 'offline' : 'back'}`);
      },
    );
    // Assert
    const after = await shared();
    expect(after.batches).toBeGreaterThan(before);
    expect([friend(after, ids.bea)?.status, friend(after, ids.cal)?.status]).toEqual(['offline', 'offline']);
  });
});

describe("the demo page's detail toggle and batch opt-in", () => {
  let browser: Browser;
  let page: Page;
  let ids: { watcher: string; bea: string; cal: string };
  let bea: WsPeer;
  let cal: WsPeer;
  const row = (userId: string) => `#friends li.friend[data-user="${userId}"]`;
  const interestLine = () =>
    page.evaluate(() => {
      const line = document.querySelector('#interest') as HTMLElement;
      return { batches: line.dataset.batches, text: line.textContent };
    });

  beforeAll(async () => {
    ids = await createTrio('demo');
    cal = await connectPeer(ids.cal, MDN);
    bea = await connectPeer(ids.bea, WIKI);
    await cal.waitFor((m) => m.userId === ids.bea && m.url === WIKI, 5000, 'bea on WIKI for cal');
    browser = await launchPlainBrowser();
    page = await (await browser.newContext({ viewport: { width: 1100, height: 800 } })).newPage();
    await page.goto(`${stack.url}/?user=${ids.watcher}`);
    await page.waitForSelector('#connection[data-state="open"]');
  });

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
  });

  it('shows the detail in effect: at status a page switch is not shown but a status change is; back at full the page is current', async () => {
    // Arrange
    await page.waitForSelector('#interest[data-detail="full"]', { timeout: 5000 });
    await page.waitForSelector(`${row(ids.bea)} a.page-title[data-url="${WIKI}"]`, { timeout: 5000 });
    // Act: status detail
    await page.selectOption('#detail', 'status');
    await page.waitForSelector('#interest[data-detail="status"]', { timeout: 5000 });
    await pageSwitchThenStatus(bea, ids.bea, cal, GITHUB, 'busy');
    await page.waitForSelector(`${row(ids.cal)}[data-status="busy"]`, { timeout: 5000 });
    // Assert: no page is shown at status detail, and bea's switch never reached the page
    const atStatus = await page.evaluate(
      ([beaId]) => ({
        pages: document.querySelectorAll('#friends a.page-title').length,
        notes: Array.from(document.querySelectorAll('#friends .page')).map((p) => p.textContent),
        events: Array.from(document.querySelectorAll('#events li')).map((li) => li.textContent ?? ''),
        beaEvents: Array.from(document.querySelectorAll('#events li'))
          .map((li) => li.textContent ?? '')
          .filter((line) => line.includes(`${beaId}:`)),
      }),
      [ids.bea],
    );
    expect(atStatus.pages).toBe(0);
    expect(atStatus.notes).toContain('page not followed at status detail');
    expect(atStatus.beaEvents.filter((line) => line.includes('github.com'))).toEqual([]);
    expect(atStatus.events.some((line) => line.includes(`${ids.cal}: busy`))).toBe(true);
    // Act: back to full detail
    await page.selectOption('#detail', 'full');
    // Assert: the page bea switched to while at status (from the snapshot), then a live switch
    await page.waitForSelector('#interest[data-detail="full"]', { timeout: 5000 });
    await page.waitForSelector(`${row(ids.bea)} a.page-title[data-url="${GITHUB}"]`, { timeout: 5000 });
    bea.send({ action: 'update-presence', url: RFC, title: 'RFC 6455' });
    await page.waitForSelector(`${row(ids.bea)} a.page-title[data-url="${RFC}"]`, { timeout: 5000 });
  });

  it('opts in to batches: reconnects with presence.v2 and counts the batches that arrive', async () => {
    // Act: opt in
    await page.check('#batch');
    await page.waitForSelector('#interest[data-protocol="presence.v2"][data-detail="full"]', { timeout: 5000 });
    await page.waitForSelector(`${row(ids.bea)}[data-status="online"]`, { timeout: 5000 });
    const before = await interestLine();
    // Act: both friends go offline in one sweep pass
    await offlineTogether(
      ids,
      [bea, cal],
      async () => Number((await interestLine()).batches),
      async (offline) => {
        const state = offline ? '[data-status="offline"]' : ':not([data-status="offline"])';
        await page.waitForSelector(`${row(ids.bea)}${state}`, { timeout: 8000 });
        await page.waitForSelector(`${row(ids.cal)}${state}`, { timeout: 8000 });
      },
    );
    // Assert
    const after = await interestLine();
    expect(before).toMatchObject({ batches: '0', text: 'detail full (confirmed) · batches on, 0 received' });
    expect(Number(after.batches)).toBeGreaterThan(0);
    expect(after.text).toMatch(/^detail full \(confirmed\) · batches on, [1-9]\d* received$/);
  });
});
