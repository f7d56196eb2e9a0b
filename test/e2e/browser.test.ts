// Browser e2e: the real MV3 extension in headless Chromium as user A, the demo page in a second browser as user B.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page, Worker } from 'playwright-core';
import { buildExtension } from '../../examples/chrome-extension/build';
import { EXTENSION_ID } from '../../src/local/local-stack';
import { connectionIdsOf, createUsers } from './support/demo-data';
import { launchPlainBrowser, launchWithExtension } from './support/chromium';
import type { StackProcess } from './support/stack-process';
import { devToken, startStackProcess } from './support/stack-process';
import { WsPeer } from './support/ws-peer';

jest.setTimeout(120_000);

const GRACE_MS = 2000;
const RESULTS = join(__dirname, '..', '..', 'test-results');
/** `UPDATE_DOCS_SCREENSHOTS=1 npm run test:e2e` also writes the README's screenshot (docs/images/demo-page.png). */
const DOCS_IMAGES = join(__dirname, '..', '..', 'docs', 'images');
const SITES: Record<string, string> = {
  'https://en.wikipedia.org/wiki/Presence': 'Presence - Wikipedia',
  'https://github.com/presence-api/presence': 'presence-api/presence - GitHub',
  'https://developer.mozilla.org/en-US/docs/Web/API/WebSocket': 'WebSocket - Web APIs | MDN',
};
const [WIKI, GITHUB, MDN] = Object.keys(SITES) as [string, string, string];

let stack: StackProcess;
let extensionDir: string;
let a: { context: BrowserContext; cleanup: () => Promise<void> } | undefined;
let browserB: Browser;
let pageB: Page;
let users: { ann: string; bea: string };
const tabs: Page[] = [];
const latencies: number[] = [];

/** Waits until B's page shows `url` for `userId`; returns how long that took. */
async function waitUntilShown(userId: string, url: string, timeoutMs = 10_000): Promise<number> {
  const started = performance.now();
  await pageB.waitForFunction(
    ([id, wanted]) =>
      document.querySelector(`li.friend[data-user="${id}"] a.page-title`)?.getAttribute('data-url') === wanted,
    [userId, url] as const,
    { polling: 'raf', timeout: timeoutMs },
  );
  return performance.now() - started;
}

async function extensionWorker(context: BrowserContext): Promise<Worker> {
  const existing = context.serviceWorkers().find((w) => w.url().startsWith(`chrome-extension://${EXTENSION_ID}/`));
  return (
    existing ??
    context.waitForEvent('serviceworker', {
      predicate: (w) => w.url().startsWith(`chrome-extension://${EXTENSION_ID}/`),
      timeout: 15_000,
    })
  );
}

beforeAll(async () => {
  mkdirSync(RESULTS, { recursive: true });
  extensionDir = await buildExtension(mkdtempSync(join(tmpdir(), 'presence-e2e-extension-')));
  stack = await startStackProcess({ GRACE_SECONDS: String(GRACE_MS / 1000), SWEEP_INTERVAL_SECONDS: '1' });
  users = await createUsers(stack.url, 'web', { ann: {}, bea: {} }, [['ann', 'bea']]);
  a = await launchWithExtension(extensionDir);
  // Stand-ins for real sites: the tabs keep their real URLs and titles, no network needed.
  await a.context.route(/^https:\/\/(en\.wikipedia\.org|github\.com|developer\.mozilla\.org)\//, (route) => {
    const url = route.request().url();
    return route.fulfill({
      contentType: 'text/html',
      body: `<!doctype html><title>${SITES[url] ?? 'Page'}</title><h1>${SITES[url] ?? url}</h1>`,
    });
  });
  browserB = await launchPlainBrowser();
  pageB = await (await browserB.newContext({ viewport: { width: 1100, height: 640 } })).newPage();
});

afterAll(async () => {
  await a?.cleanup();
  await browserB?.close().catch(() => undefined);
  await stack?.stop();
  if (extensionDir) rmSync(extensionDir, { recursive: true, force: true });
  if (latencies.length) {
    const sorted = [...latencies].sort((x, y) => x - y);
    const summary = {
      samples: sorted.map(Math.round),
      medianMs: Math.round(sorted[Math.floor(sorted.length / 2)] as number),
      maxMs: Math.round(sorted[sorted.length - 1] as number),
      stackStartupMs: { reported: stack.reportedStartupMs, spawnToReady: stack.measuredStartupMs },
    };
    writeFileSync(join(RESULTS, 'latency.json'), `${JSON.stringify(summary, null, 2)}\n`);
    process.stdout.write(`\ntab switch -> friend's screen: ${JSON.stringify(summary)}\n`);
  }
});

describe('the Chrome extension and the demo page in headless Chromium', () => {
  it('loads the extension with its pinned id and signs in with one click on the options page', async () => {
    // Arrange
    const worker = await extensionWorker(a!.context);
    const options = await a!.context.newPage();
    await options.goto(`chrome-extension://${EXTENSION_ID}/options.html`);
    // Act
    await options.fill('#server', stack.url);
    await options.fill('#user', users.ann);
    await options.click('#dev-token');
    // Assert
    await options.waitForFunction(
      (id) => document.getElementById('status')?.textContent?.includes(`Signed in as ${id}`),
      users.ann,
    );
    expect(new URL(worker.url()).host).toBe(EXTENSION_ID);
    await options.close();
  });

  it("shows A's new page on B's demo page within 1 s of A switching tabs", async () => {
    // Arrange: B watches; A has three tabs open
    await pageB.goto(`${stack.url}/?user=${users.bea}`);
    await pageB.waitForSelector('#connection[data-state="open"]');
    for (const url of [WIKI, GITHUB, MDN]) {
      const tab = await a!.context.newPage();
      await tab.goto(url);
      tabs.push(tab);
    }
    await tabs[0]!.bringToFront();
    await waitUntilShown(users.ann, WIKI);
    // Act: switch tabs several times, measuring until B's screen shows the new page
    for (const index of [1, 2, 0, 1, 2, 0, 1, 2]) {
      const target = [WIKI, GITHUB, MDN][index] as string;
      const started = performance.now();
      await tabs[index]!.bringToFront();
      await waitUntilShown(users.ann, target, 5000);
      latencies.push(performance.now() - started);
    }
    // Assert
    expect(Math.max(...latencies)).toBeLessThan(1000);
    const row = pageB.locator(`li.friend[data-user="${users.ann}"]`);
    await expect(row.getAttribute('data-status')).resolves.toBe('online');
    await expect(row.locator('a.page-title').textContent()).resolves.toBe(SITES[MDN]);
  });

  it('saves screenshots of the demo page and the popup', async () => {
    // Arrange
    await pageB.screenshot({ path: join(RESULTS, 'demo-page.png') });
    const popup = await a!.context.newPage();
    await popup.setViewportSize({ width: 360, height: 260 });
    // Act
    await popup.goto(`chrome-extension://${EXTENSION_ID}/popup.html`);
    await popup.waitForSelector(`li.friend[data-user="${users.bea}"]`);
    await popup.screenshot({ path: join(RESULTS, 'popup.png') });
    // Assert
    await expect(popup.locator('#connection').textContent()).resolves.toBe('open');
    await expect(popup.locator(`li.friend[data-user="${users.bea}"]`).getAttribute('data-status')).resolves.toBe(
      'online',
    );
    await popup.close();
  });

  it('reconnects after the service worker is force-stopped through CDP, on the next tab event', async () => {
    // Arrange
    await tabs[1]!.bringToFront();
    await waitUntilShown(users.ann, GITHUB);
    const connectionsBefore = connectionIdsOf(stack.output(), users.ann).length;
    const disconnectsBefore = countDisconnects(users.ann);
    const cdp = await a!.context.newCDPSession(tabs[1]!);
    const { targetInfos } = (await cdp.send('Target.getTargets')) as {
      targetInfos: { targetId: string; type: string; url: string }[];
    };
    const worker = targetInfos.find(
      (t) => t.type === 'service_worker' && t.url.startsWith(`chrome-extension://${EXTENSION_ID}/`),
    );
    expect(worker).toBeDefined();
    // Act: stop the worker (its WebSocket closes with it), then switch tabs
    await cdp.send('Target.closeTarget', { targetId: worker!.targetId });
    await waitFor(() => countDisconnects(users.ann) > disconnectsBefore, 5000);
    const stoppedTargets = (await cdp.send('Target.getTargets')) as {
      targetInfos: { targetId: string; type: string }[];
    };
    expect(stoppedTargets.targetInfos.some((t) => t.targetId === worker!.targetId)).toBe(false);
    await tabs[0]!.bringToFront();
    // Assert: the worker is back (it was gone), with a new connection, and B sees the new page
    await waitUntilShown(users.ann, WIKI, 10_000);
    expect(connectionIdsOf(stack.output(), users.ann).length).toBe(connectionsBefore + 1);
    const restarted = (await cdp.send('Target.getTargets')) as {
      targetInfos: { targetId: string; type: string; url: string }[];
    };
    expect(restarted.targetInfos.some((t) => t.type === 'service_worker' && t.url.includes(EXTENSION_ID))).toBe(true);
    await cdp.detach();
  });

  it("turns A offline on B's demo page after the grace window when A's browser closes", async () => {
    // Arrange
    const row = pageB.locator(`li.friend[data-user="${users.ann}"]`);
    await expect(row.getAttribute('data-status')).resolves.toBe('online');
    // Act
    const closedAt = performance.now();
    await a!.cleanup();
    a = undefined;
    await pageB.waitForSelector(`li.friend[data-user="${users.ann}"][data-status="offline"]`, {
      timeout: GRACE_MS + 8000,
    });
    // Assert
    expect(performance.now() - closedAt).toBeGreaterThanOrEqual(GRACE_MS - 300);
    await expect(row.locator('.seen').textContent()).resolves.toMatch(/^last seen/);
    await pageB.screenshot({ path: join(RESULTS, 'demo-page-offline.png') });
  });
});

function countDisconnects(userId: string): number {
  return [...stack.output().matchAll(new RegExp(`\\$disconnect\\s+200\\s+${userId}`, 'g'))].length;
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the demo page with the demo users (alice, her friends bob, carol, dave)', () => {
  let page: Page;
  const friendsOnline: WsPeer[] = [];
  /** What the "You" panel shows: status, message, shared page, and the status box. */
  const yourPanel = () =>
    page.evaluate(() => {
      const you = document.querySelector('#you-presence');
      return {
        status: you?.getAttribute('data-status'),
        message: you?.querySelector('.message')?.textContent ?? null,
        page: you?.querySelector('a.page-title')?.getAttribute('data-url') ?? null,
        note: you?.querySelector('.note')?.textContent ?? null,
        statusBox: (document.querySelector('#status') as HTMLSelectElement).value,
      };
    });
  const waitForYou = (status: string) =>
    page.waitForSelector(`#you-presence[data-status="${status}"]`, { timeout: 5000 });
  const open = async () => {
    await page.goto(`${stack.url}/?user=alice`);
    await page.waitForSelector('#connection[data-state="open"]');
    await page.waitForSelector('#you-presence');
  };

  beforeAll(async () => {
    // bob shares a page, carol is away with a message, dave stays offline
    const bob = await WsPeer.connect(stack.wsUrl, await devToken(stack.url, 'bob'));
    bob.send({ action: 'update-presence', url: GITHUB, title: SITES[GITHUB] });
    const carol = await WsPeer.connect(stack.wsUrl, await devToken(stack.url, 'carol'));
    carol.send({ action: 'update-presence', url: MDN, title: SITES[MDN], status: 'away', message: 'In a meeting' });
    friendsOnline.push(bob, carol);
    page = await (await browserB.newContext({ viewport: { width: 1100, height: 640 } })).newPage();
  });

  afterAll(async () => {
    await Promise.all(friendsOnline.map((peer) => peer.close()));
    await page?.context().close();
  });

  it('shows your own real state in the "You" panel after each change and after a reload, the status box in sync', async () => {
    // Arrange
    await open();
    await waitForYou('online');
    await page.waitForSelector(`li.friend[data-user="bob"] a.page-title[data-url="${GITHUB}"]`);
    // Act / Assert: a status
    await page.selectOption('#status', 'busy');
    await waitForYou('busy');
    // Act / Assert: a message and a page
    await page.fill('#share-message', 'Writing the docs');
    await page.click('#share button[type="submit"]');
    await page.waitForSelector(`#you-presence a.page-title[data-url="${WIKI}"]`, { timeout: 5000 });
    await expect(yourPanel()).resolves.toEqual({
      status: 'busy',
      message: '“Writing the docs”',
      page: WIKI,
      note: null,
      statusBox: 'busy',
    });
    // Act / Assert: a reload shows the same, status box included (a new connection keeps the standing choice)
    await open();
    await waitForYou('busy');
    await expect(yourPanel()).resolves.toEqual({
      status: 'busy',
      message: '“Writing the docs”',
      page: WIKI,
      note: null,
      statusBox: 'busy',
    });
    await page.waitForSelector('li.friend[data-user="carol"][data-status="away"]');
    await page.screenshot({ path: join(RESULTS, 'demo-page-demo-users.png') });
    if (process.env.UPDATE_DOCS_SCREENSHOTS === '1')
      copyFileSync(join(RESULTS, 'demo-page-demo-users.png'), join(DOCS_IMAGES, 'demo-page.png'));
    // Act / Assert: invisible is your real state, friends see you offline; it survives a reload too
    const [bob] = friendsOnline;
    bob!.clear();
    await page.selectOption('#status', 'invisible');
    await waitForYou('invisible');
    await bob!.waitFor(
      (m) => m.userId === 'alice' && (m.type === 'presence-timeout' || m.status === 'offline'),
      GRACE_MS + 5000,
      'alice offline for bob',
    );
    await open();
    await waitForYou('invisible');
    await expect(yourPanel()).resolves.toMatchObject({
      status: 'invisible',
      note: 'friends see you as offline',
      statusBox: 'invisible',
    });
    expect(bob!.about('alice').filter((m) => m.status !== 'offline')).toEqual([]);
    // Act / Assert: back online
    await page.selectOption('#status', 'online');
    await waitForYou('online');
    await expect(yourPanel()).resolves.toMatchObject({
      status: 'online',
      message: '“Writing the docs”',
      statusBox: 'online',
    });
  });

  it.each([360, 768])(
    'fits a %i px wide window: no sideways scroll, a readable friends column, the user picker in full',
    async (width) => {
      // Arrange
      const narrow = await (await browserB.newContext({ viewport: { width, height: 800 } })).newPage();
      try {
        // Act
        await narrow.goto(`${stack.url}/?user=alice`);
        await narrow.waitForSelector('#connection[data-state="open"]');
        await narrow.waitForSelector('li.friend[data-user="bob"] a.page-title');
        const layout = await narrow.evaluate(() => {
          const select = document.querySelector('#user') as HTMLSelectElement;
          const style = getComputedStyle(select);
          const context = document.createElement('canvas').getContext('2d') as CanvasRenderingContext2D;
          context.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
          const label = select.selectedOptions[0]?.text ?? '';
          // The text box of a select: its width without padding and the drop-down arrow (about 20 px).
          const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 20;
          const friends = document.querySelector('#friends') as HTMLElement;
          const rows = Array.from(document.querySelectorAll<HTMLElement>('li.friend'));
          return {
            scrollWidth: document.documentElement.scrollWidth,
            innerWidth,
            label,
            labelFits: context.measureText(label).width <= room,
            friendsWidth: friends.clientWidth,
            rowsOverflowing: rows.filter((row) => row.scrollWidth > row.clientWidth).length,
          };
        });
        await narrow.screenshot({ path: join(RESULTS, `demo-page-${width}px.png`), fullPage: true });
        // Assert
        expect(layout.scrollWidth).toBeLessThanOrEqual(layout.innerWidth);
        expect(layout.label).toBe('Alice Anders (alice)');
        expect(layout.labelFits).toBe(true);
        expect(layout.friendsWidth).toBeGreaterThanOrEqual(280);
        expect(layout.rowsOverflowing).toBe(0);
      } finally {
        await narrow.context().close();
      }
    },
  );
});
