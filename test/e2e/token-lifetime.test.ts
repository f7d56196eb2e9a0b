// Token lifetime (CONTRACT.md, "Token lifetime") through the local stack with its real verifier (aws-jwt-verify against
// the dev issuer's JWKS): a fresh `jwt` in a message renews a connection, an expired one extends nothing, a forged or
// foreign one is refused and its message dropped.
import { createDevIssuer } from '../../src/local/dev-issuer';
import { createUsers } from './support/demo-data';
import type { StackProcess } from './support/stack-process';
import { devToken, startStackProcess } from './support/stack-process';
import { WsPeer, sleep } from './support/ws-peer';

jest.setTimeout(60_000);

/** Lifetime of the short tokens the connections open with. */
const SHORT_S = 2;
let stack: StackProcess;
const peers: WsPeer[] = [];

async function open(userId: string, expiresIn: number): Promise<WsPeer> {
  const peer = await WsPeer.connect(stack.wsUrl, await devToken(stack.url, userId, expiresIn), 'subprotocol');
  peers.push(peer);
  return peer;
}

/** The dev issuer's `iss` and `aud`, read from one of its tokens (a forger copies them, not the key). */
async function issuerClaims(): Promise<{ iss: string; aud: string }> {
  const token = await devToken(stack.url, 'anyone');
  return JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as { iss: string; aud: string };
}

beforeAll(async () => {
  stack = await startStackProcess({ AUTH_GRACE_SECONDS: '0', GRACE_SECONDS: '1', SWEEP_INTERVAL_SECONDS: '1' });
});

afterEach(async () => {
  await Promise.all(peers.splice(0).map((p) => p.close()));
});

afterAll(async () => {
  expect(await stack?.stop()).toBe(143);
});

it("a fresh jwt in a heartbeat carries the connection past its first token's exp", async () => {
  // Arrange
  const u = await createUsers(stack.url, 'renew', { ann: {}, ben: {} }, [['ann', 'ben']]);
  const ben = await open(u.ben, 3600);
  const ann = await open(u.ann, SHORT_S);
  await ben.waitFor((m) => m.userId === u.ann && m.status === 'online', 5000, 'ann online');
  // Act: renew before the short token expires, then outlive it by more than a sweep and a grace window
  ann.send({ action: 'heartbeat', jwt: await devToken(stack.url, u.ann, 3600) });
  await sleep(SHORT_S * 1000 + 2500);
  ann.send({ action: 'update-presence', url: 'https://github.com/renewed', title: 'Renewed' });
  // Assert
  await ben.waitFor((m) => m.userId === u.ann && m.url === 'https://github.com/renewed', 5000, "ann's page");
  expect(ann.closed).toBeUndefined();
  expect(ann.messages.filter((m) => m.type === 'error')).toEqual([]);
  expect(ben.messages.filter((m) => m.type === 'presence-timeout' && m.userId === u.ann)).toEqual([]);
});

it('an expired jwt in a message extends nothing: the message is processed, then the connection expires', async () => {
  // Arrange
  const u = await createUsers(stack.url, 'stale', { ann: {}, ben: {} }, [['ann', 'ben']]);
  const ben = await open(u.ben, 3600);
  const ann = await open(u.ann, SHORT_S);
  await ben.waitFor((m) => m.userId === u.ann && m.status === 'online', 5000, 'ann online');
  // Act
  const stale = await devToken(stack.url, u.ann, -60);
  ann.send({ action: 'update-presence', url: 'https://github.com/stale', title: 'Stale', jwt: stale });
  // Assert: processed while still authorized, then token_expired, closed, and friends told
  await ben.waitFor((m) => m.userId === u.ann && m.url === 'https://github.com/stale', 5000, "ann's page");
  expect(ann.messages.filter((m) => m.type === 'error')).toEqual([]);
  await ann.waitFor((m) => m.type === 'error' && m.code === 'token_expired', SHORT_S * 1000 + 5000, 'token_expired');
  await ann.waitForClose(5000);
  await ben.waitFor((m) => m.type === 'presence-timeout' && m.userId === u.ann, 5000, 'ann offline');
});

it("a forged or another user's jwt is refused with unauthorized, its message dropped and nothing renewed", async () => {
  // Arrange
  const u = await createUsers(stack.url, 'forge', { ann: {}, ben: {} }, [['ann', 'ben']]);
  const ben = await open(u.ben, 3600);
  const ann = await open(u.ann, SHORT_S);
  await ben.waitFor((m) => m.userId === u.ann && m.status === 'online', 5000, 'ann online');
  const { iss, aud } = await issuerClaims();
  const forged = createDevIssuer({ issuer: iss, audience: aud }).sign(u.ann, { expiresIn: 3600 });
  const foreign = await devToken(stack.url, u.ben, 3600);
  // Act
  ann.send({ action: 'update-presence', url: 'https://github.com/forged', title: 'Forged', jwt: forged });
  ann.send({ action: 'update-presence', url: 'https://github.com/foreign', title: 'Foreign', jwt: foreign });
  ann.send({ action: 'update-presence', url: 'https://github.com/own', title: 'Own' });
  // Assert: both refused and dropped; the short token still ends the connection (nothing was renewed)
  await ben.waitFor((m) => m.userId === u.ann && m.url === 'https://github.com/own', 5000, 'the plain update');
  const errors = ann.messages.filter((m) => m.type === 'error').map((m) => m.code);
  expect(errors).toEqual(['unauthorized', 'unauthorized']);
  const pages = ben.messages.filter((m) => m.userId === u.ann && typeof m.url === 'string' && m.url !== '');
  expect(pages.map((m) => m.url)).toEqual(['https://github.com/own']);
  await ann.waitFor((m) => m.type === 'error' && m.code === 'token_expired', SHORT_S * 1000 + 5000, 'token_expired');
});
