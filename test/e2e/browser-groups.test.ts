// Browser e2e of the demo page's group view in headless Chromium: pick a group, see members' live presence (a
// non-friend at status level only) and the online count follow pushes.
import type { Browser, Page } from 'playwright-core';
import { createUsers } from './support/demo-data';
import { launchPlainBrowser } from './support/chromium';
import type { StackProcess } from './support/stack-process';
import { devToken, postJson, startStackProcess } from './support/stack-process';
import { WsPeer } from './support/ws-peer';

jest.setTimeout(120_000);

let stack: StackProcess;
let browser: Browser;
let page: Page;
const peers: WsPeer[] = [];

beforeAll(async () => {
  stack = await startStackProcess({ GRACE_SECONDS: '1', SWEEP_INTERVAL_SECONDS: '1' });
  browser = await launchPlainBrowser();
  page = await (await browser.newContext({ viewport: { width: 1100, height: 800 } })).newPage();
});

afterAll(async () => {
  await Promise.all(peers.map((p) => p.close()));
  await browser?.close().catch(() => undefined);
  await stack?.stop();
});

const onlineCount = () => page.locator('#group-online').getAttribute('data-online');
const memberStatus = (userId: string) =>
  page.locator(`#group-members li.friend[data-user="${userId}"]`).getAttribute('data-status');

it('shows a picked group with its members’ live presence and online count', async () => {
  // Arrange: ann (on the page) and ben are friends; cy is in the group but nobody's friend
  const u = await createUsers(stack.url, 'bgrp', { ann: {}, ben: {}, cy: {} }, [['ann', 'ben']]);
  const groupId = `party-${u.ann}`;
  expect(await postJson(stack.url, '/dev/groups', { groupId, name: 'Party', members: [u.ann, u.ben, u.cy] })).toBe(201);
  const ben = await WsPeer.connect(stack.wsUrl, await devToken(stack.url, u.ben));
  peers.push(ben);
  await page.goto(`${stack.url}/?user=${u.ann}`);
  await page.waitForSelector('#connection[data-state="open"]');
  await page.waitForSelector(`#group option[value="${groupId}"]`, { state: 'attached' });

  // Act: pick the group, then cy comes online, shares a page and goes busy
  await page.selectOption('#group', groupId);
  await page.waitForSelector(`#group-members li.friend[data-user="${u.cy}"]`);
  const before = await onlineCount();
  const cy = await WsPeer.connect(stack.wsUrl, await devToken(stack.url, u.cy));
  peers.push(cy);
  cy.send({ action: 'update-presence', status: 'busy', url: 'https://github.com/secret', title: 'Secret' });

  // Assert: ann's page (the caller) and ben online before; cy busy after, without a page
  expect(before).toBe('2');
  await page.waitForFunction(
    (id) =>
      document.querySelector(`#group-members li.friend[data-user="${id}"]`)?.getAttribute('data-status') === 'busy',
    u.cy,
  );
  expect(await onlineCount()).toBe('3');
  expect(await memberStatus(u.ben)).toBe('online');
  expect(await page.locator(`#group-members li.friend[data-user="${u.cy}"] a.page-title`).count()).toBe(0);

  // Act: cy leaves
  await cy.close();
  // Assert: after the grace window cy is offline and the count drops
  await page.waitForFunction(() => document.querySelector('#group-online')?.getAttribute('data-online') === '2', null, {
    timeout: 15_000,
  });
  expect(await memberStatus(u.cy)).toBe('offline');
});
