// Protocol e2e of groups (party presence): real WebSocket clients and REST through the local gateway, groups made with
// POST /dev/groups, the real handlers, Redis and Postgres.
import { createUsers } from './support/demo-data';
import type { StackProcess } from './support/stack-process';
import { devToken, postJson, startStackProcess } from './support/stack-process';
import { WsPeer, sleep } from './support/ws-peer';

jest.setTimeout(60_000);

let stack: StackProcess;
const peers: WsPeer[] = [];

async function connect(userId: string): Promise<WsPeer> {
  const peer = await WsPeer.connect(stack.wsUrl, await devToken(stack.url, userId));
  peers.push(peer);
  return peer;
}

async function groupPresence(groupId: string, userId: string) {
  const response = await fetch(`${stack.url}/groups/${encodeURIComponent(groupId)}/presence`, {
    headers: { Authorization: `Bearer ${await devToken(stack.url, userId)}` },
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

beforeAll(async () => {
  stack = await startStackProcess({ GRACE_SECONDS: '1', SWEEP_INTERVAL_SECONDS: '1', GROUPS_PER_CONNECTION: '2' });
});

afterEach(async () => {
  await Promise.all(peers.splice(0).map((p) => p.close()));
});

afterAll(async () => {
  expect(await stack?.stop()).toBe(143);
});

it('serves a group to its members: friends in full, others at status level, with the online count', async () => {
  // Arrange: ann and ben are friends; cy is in the party but nobody's friend; dee is not in it
  const u = await createUsers(stack.url, 'grp', { ann: {}, ben: {}, cy: {}, dee: {} }, [['ann', 'ben']]);
  const groupId = `party-${u.ann}`;
  expect(await postJson(stack.url, '/dev/groups', { groupId, name: 'Raid night', members: [u.ann, u.ben, u.cy] })).toBe(
    201,
  );
  const ben = await connect(u.ben);
  const cy = await connect(u.cy);
  ben.send({ action: 'update-presence', url: 'https://github.com/x', title: 'X', activity: { doc: 'plan' } });
  cy.send({ action: 'update-presence', url: 'https://github.com/y', title: 'Y', activity: { doc: 'secret' } });
  await sleep(300);

  // Act
  const asAnn = await groupPresence(groupId, u.ann);
  const asDee = await groupPresence(groupId, u.dee);

  // Assert
  expect(asAnn.status).toBe(200);
  expect(asAnn.body).toMatchObject({ groupId, name: 'Raid night', online: 2 });
  const byId = Object.fromEntries(asAnn.body.members.map((m: { userId: string }) => [m.userId, m]));
  expect(byId[u.ben]).toMatchObject({
    status: 'online',
    page: { url: 'https://github.com/x' },
    activity: { doc: 'plan' },
  });
  expect(byId[u.cy]).toMatchObject({ status: 'online', page: null, latestPage: null, activity: null });
  expect(byId[u.ann]).toMatchObject({ status: 'offline' });
  expect(asAnn.body.userInfoMap[u.cy]).toMatchObject({ user_id: u.cy, first_name: 'Cy' });
  expect(asDee).toEqual({ status: 403, body: { message: 'Forbidden access to group presence' } });
  expect((await groupPresence('no-such-group', u.ann)).status).toBe(403);
});

it('pushes group members’ status changes to followers, never a page or activity of a non-friend', async () => {
  // Arrange
  const u = await createUsers(stack.url, 'grpush', { ann: {}, cy: {}, dee: {} });
  const groupId = `party-${u.ann}`;
  await postJson(stack.url, '/dev/groups', { groupId, name: 'Party', members: [u.ann, u.cy] });
  const ann = await connect(u.ann);
  const dee = await connect(u.dee);

  // Act
  ann.send({ action: 'subscribe', groups: [groupId] });
  dee.send({ action: 'subscribe', groups: [groupId] });
  ann.send({ action: 'subscribe', groups: ['a', 'b', 'c'] });
  await ann.waitFor((m) => m.type === 'subscribed', 5000, 'subscribed');
  await dee.waitFor((m) => m.type === 'error' && m.code === 'forbidden', 5000, 'forbidden');
  await ann.waitFor((m) => m.type === 'error' && m.code === 'invalid_message', 5000, 'over the limit');
  const cy = await connect(u.cy);
  cy.send({ action: 'update-presence', status: 'busy', url: 'https://github.com/z', title: 'Z', activity: { x: 1 } });

  // Assert
  const busy = await ann.waitFor((m) => m.userId === u.cy && m.status === 'busy', 5000, 'cy busy');
  expect(busy).toMatchObject({
    type: 'update-presence',
    url: '',
    title: '',
    domain: '',
    latestUrl: '',
    activity: null,
  });
  expect(ann.messages.find((m) => m.type === 'subscribed')).toEqual({
    type: 'subscribed',
    detail: 'full',
    groups: [groupId],
  });
  expect(ann.messages.find((m) => m.type === 'error')).toMatchObject({ message: expect.stringMatching(/^groups/) });
  cy.send({ action: 'update-presence', status: 'invisible' });
  await ann.waitFor((m) => m.type === 'presence-timeout' && m.userId === u.cy, 5000, 'cy invisible = offline');
  expect(dee.messages.filter((m) => m.userId === u.cy)).toEqual([]);
});

it('applies POST /dev/groups at once: a removed member loses access and pushes', async () => {
  // Arrange
  const u = await createUsers(stack.url, 'grmove', { ann: {}, cy: {} });
  const groupId = `party-${u.ann}`;
  await postJson(stack.url, '/dev/groups', { groupId, name: 'Party', members: [u.ann, u.cy] });
  const cy = await connect(u.cy);
  cy.send({ action: 'subscribe', groups: [groupId] });
  await cy.waitFor((m) => m.type === 'subscribed', 5000, 'subscribed');

  // Act
  expect(await postJson(stack.url, '/dev/groups', { groupId, name: 'Party', members: [u.ann] })).toBe(201);
  const ann = await connect(u.ann);
  ann.send({ action: 'update-presence', status: 'busy' });
  await sleep(500);

  // Assert
  expect(cy.messages.filter((m) => m.userId === u.ann)).toEqual([]);
  expect((await groupPresence(groupId, u.cy)).status).toBe(403);
  expect(await postJson(stack.url, '/dev/groups', { groupId: '', name: 'x' })).toBe(400);
});
