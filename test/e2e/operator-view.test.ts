// Browser e2e of the demo page's operator view: the usage chart, the live online figure and the latest presence events,
// refreshing while real WebSocket clients come, change status and go; GET /usage only for the admin group.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { createUsers } from './support/demo-data';
import { launchPlainBrowser } from './support/chromium';
import type { StackProcess } from './support/stack-process';
import { devToken, startStackProcess } from './support/stack-process';
import { WsPeer } from './support/ws-peer';

jest.setTimeout(120_000);

const RESULTS = join(__dirname, '..', '..', 'test-results');
/** `UPDATE_DOCS_SCREENSHOTS=1 npm run test:e2e` also writes the README's screenshot (docs/images/operator-view.png). */
const DOCS_IMAGES = join(__dirname, '..', '..', 'docs', 'images');

let stack: StackProcess;
let browser: Browser;
let page: Page;
let users: { ops1: string; ops2: string; ops3: string };
const peers: WsPeer[] = [];

const connectAs = async (userId: string) => {
  const peer = await WsPeer.connect(`${stack.wsUrl}`, await devToken(stack.url, userId));
  peers.push(peer);
  return peer;
};
const figure = (id: string) => page.locator(`#${id}`).textContent();

beforeAll(async () => {
  mkdirSync(RESULTS, { recursive: true });
  stack = await startStackProcess({ GRACE_SECONDS: '0', SWEEP_INTERVAL_SECONDS: '1' });
  users = await createUsers(stack.url, 'ops', { ops1: {}, ops2: {}, ops3: {} }, [
    ['ops1', 'ops2'],
    ['ops2', 'ops3'],
  ]);
  browser = await launchPlainBrowser();
  page = await (await browser.newContext({ viewport: { width: 1100, height: 1000 } })).newPage();
});

afterAll(async () => {
  await Promise.all(peers.map((p) => p.close().catch(() => undefined)));
  await browser?.close().catch(() => undefined);
  await stack?.stop();
});

it('answers GET /usage only to the admin group: 403 for a plain token, 400 for an unknown range', async () => {
  // Arrange
  const plain = await devToken(stack.url, users.ops1);
  const admin = (
    (await (
      await fetch(`${stack.url}/dev/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ userId: 'operator', groups: ['presence-admin'] }),
      })
    ).json()) as { token: string }
  ).token;
  const get = (token: string, range: string) =>
    fetch(`${stack.url}/usage?range=${range}`, { headers: { Authorization: `Bearer ${token}` } });

  // Act
  const [forbidden, unknown, allowed] = await Promise.all([get(plain, '1h'), get(admin, '5m'), get(admin, '7d')]);

  // Assert
  expect(forbidden.status).toBe(403);
  expect(await forbidden.json()).toEqual({ message: 'Forbidden access to usage' });
  expect(unknown.status).toBe(400);
  expect(allowed.status).toBe(200);
  expect(Object.keys((await allowed.json()) as object).sort()).toEqual([
    'connectionsNow',
    'onlineNow',
    'peakOnline',
    'series',
  ]);
});

it('charts users online and connections, shows the live figure and the latest presence events, refreshing', async () => {
  // Arrange
  await page.goto(`${stack.url}/`);
  await page.waitForSelector('#operator[data-refreshed]');

  // Act: three users come online (one with two connections), one goes busy, one leaves
  await connectAs(users.ops1);
  await connectAs(users.ops1);
  const two = await connectAs(users.ops2);
  await connectAs(users.ops3);
  await page.waitForFunction(() => document.querySelector('#online-now')?.textContent === '3', undefined, {
    timeout: 20_000,
  });
  const connectionsWithThree = await figure('connections-now');
  two.send({ action: 'update-presence', status: 'busy' });
  await page.waitForFunction(
    (id) =>
      Array.from(document.querySelectorAll('#presence-events li')).some((li) =>
        li.textContent?.includes(`${id}  online → busy`),
      ),
    users.ops2,
    { timeout: 20_000 },
  );
  await page.locator('#usage-range').selectOption('1h');
  await page.waitForFunction(
    () => Number(document.querySelector('#usage-chart')?.getAttribute('data-points')) >= 2,
    undefined,
    {
      timeout: 20_000,
    },
  );

  // Assert
  expect(connectionsWithThree).toBe('4');
  expect(Number(await figure('peak-online'))).toBeGreaterThanOrEqual(3);
  const online = await page.locator('#usage-chart polyline.online').getAttribute('points');
  const connections = await page.locator('#usage-chart polyline.connections').getAttribute('points');
  expect(online?.split(' ').length).toBeGreaterThanOrEqual(2);
  expect(connections).not.toEqual(online);
  const eventLines = await page.locator('#presence-events li').allTextContents();
  for (const id of [users.ops1, users.ops2, users.ops3]) {
    expect(eventLines.some((line) => line.includes(`${id}  offline → online`))).toBe(true);
  }
  await page.locator('#operator').screenshot({ path: join(RESULTS, 'operator-view.png') });
  if (process.env.UPDATE_DOCS_SCREENSHOTS === '1') {
    await page.locator('#operator').screenshot({ path: join(DOCS_IMAGES, 'operator-view.png') });
  }

  // Act: one user leaves; the figure follows without a reload
  await peers[3]?.close();
  await page.waitForFunction(() => document.querySelector('#online-now')?.textContent === '2', undefined, {
    timeout: 20_000,
  });

  // Assert
  expect(await figure('connections-now')).toBe('3');
  await page.waitForFunction(
    (id) =>
      Array.from(document.querySelectorAll('#presence-events li')).some((li) =>
        li.textContent?.includes(`${id}  online → offline`),
      ),
    users.ops3,
    { timeout: 20_000 },
  );
});

it('fits a 360 px wide window without sideways scroll', async () => {
  // Arrange
  const narrow = await (await browser.newContext({ viewport: { width: 360, height: 800 } })).newPage();
  try {
    // Act
    await narrow.goto(`${stack.url}/`);
    await narrow.waitForSelector('#operator[data-refreshed]');
    const widths = await narrow.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      innerWidth,
      chart: (document.querySelector('#usage-chart') as SVGSVGElement).getBoundingClientRect().width,
    }));

    // Assert
    expect(widths.scrollWidth).toBeLessThanOrEqual(widths.innerWidth);
    expect(widths.chart).toBeGreaterThan(250);
  } finally {
    await narrow.context().close();
  }
});
