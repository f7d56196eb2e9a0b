// The authorizer: every accepted token form, every bad-token case, against a real JWKS endpoint over HTTP.
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { handler } from '../../src/functions/authorizer/handler';
import { shutdownRuntime } from '../../src/layer/runtime';
import { createDevIssuer, signJwt } from '../../src/local/dev-issuer';
import type { DevIssuer } from '../../src/local/dev-issuer';
import { loadEvent } from '../../events/sample-events';

let server: Server;
let issuer: DevIssuer;

beforeAll(async () => {
  server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(issuer.jwks));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  issuer = createDevIssuer({ issuer: base, audience: 'presence-local' });
  Object.assign(process.env, { JWT_ISSUER: base, JWT_AUDIENCE: 'presence-local', JWT_TOKEN_USE: 'any' });
  delete process.env.JWT_JWKS_URI;
  delete process.env.COGNITO_USER_POOL_ID;
});
afterAll(async () => {
  await shutdownRuntime();
  await new Promise((resolve) => server.close(resolve));
});

const websocket = (mutate: (e: APIGatewayRequestAuthorizerEvent) => void = () => undefined) => {
  const event = loadEvent<APIGatewayRequestAuthorizerEvent>('authorizer-websocket', (u) => issuer.sign(u));
  mutate(event);
  return event;
};
const rest = (authorization: string | undefined) => {
  const event = loadEvent<APIGatewayRequestAuthorizerEvent>('authorizer-rest');
  event.headers = { ...event.headers, Authorization: authorization } as APIGatewayRequestAuthorizerEvent['headers'];
  if (authorization === undefined) delete event.headers!.Authorization;
  return event;
};

describe('accepts', () => {
  it('a WebSocket token in the Authorization query parameter, allowing the whole stage', async () => {
    const result = await handler(websocket());
    expect(result.principalId).toBe('alice');
    expect(result.context).toEqual({ userId: 'alice', exp: expect.any(Number), groups: '[]' });
    expect(result.policyDocument.Statement).toEqual([
      {
        Action: 'execute-api:Invoke',
        Effect: 'Allow',
        Resource: 'arn:aws:execute-api:us-east-1:123456789012:abc123defg/prod/*',
      },
    ]);
  });

  it('a WebSocket token in the token query parameter', async () => {
    const event = websocket((e) => (e.queryStringParameters = { token: issuer.sign('bob') }));
    expect((await handler(event)).context).toEqual({ userId: 'bob', exp: expect.any(Number), groups: '[]' });
  });

  it('a WebSocket token in Sec-WebSocket-Protocol next to presence.v1', async () => {
    const event = loadEvent<APIGatewayRequestAuthorizerEvent>('authorizer-websocket-subprotocol', (u) =>
      issuer.sign(u),
    );
    expect((await handler(event)).context).toEqual({ userId: 'alice', exp: expect.any(Number), groups: '[]' });
  });

  it("passes the token's cognito:groups on as a JSON array, so a group name with a comma stays one group", async () => {
    // Arrange
    const token = issuer.sign('alice', { extraClaims: { 'cognito:groups': ['presence-admin', 'a,b'] } });
    // Act
    const result = await handler(rest(`Bearer ${token}`));
    // Assert
    expect(JSON.parse(String(result.context?.groups))).toEqual(['presence-admin', 'a,b']);
  });

  it('REST Bearer and bare tokens, and access tokens (username, client_id)', async () => {
    expect((await handler(rest(`Bearer ${issuer.sign('carol')}`))).principalId).toBe('carol');
    expect((await handler(rest(issuer.sign('carol')))).principalId).toBe('carol');
    expect((await handler(rest(`Bearer ${issuer.sign('dave', { tokenUse: 'access' })}`))).principalId).toBe('dave');
  });
});

describe('refuses with Unauthorized (401)', () => {
  const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const now = Math.floor(Date.now() / 1000);
  const cases: [string, () => APIGatewayRequestAuthorizerEvent][] = [
    ['no token', () => rest(undefined)],
    ['an empty bearer', () => rest('Bearer ')],
    ['a malformed token', () => rest('Bearer not.a.jwt')],
    ['garbage', () => rest('Bearer %%%')],
    ['an expired token', () => rest(`Bearer ${issuer.sign('alice', { expiresIn: -60 })}`)],
    ['a foreign issuer', () => rest(`Bearer ${issuer.sign('alice', { issuer: 'https://evil.example' })}`)],
    ['a foreign audience', () => rest(`Bearer ${issuer.sign('alice', { audience: 'someone-else' })}`)],
    [
      'a foreign signing key',
      () =>
        rest(
          `Bearer ${signJwt({ iss: issuer.issuer, aud: issuer.audience, 'cognito:username': 'alice', token_use: 'id', exp: now + 60, iat: now }, otherKey, issuer.kid)}`,
        ),
    ],
    [
      'an unknown key id',
      () =>
        rest(
          `Bearer ${signJwt({ iss: issuer.issuer, aud: issuer.audience, sub: 'x', exp: now + 60 }, otherKey, 'nope')}`,
        ),
    ],
    [
      'alg none',
      () =>
        rest(
          `Bearer ${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ iss: issuer.issuer, aud: issuer.audience, sub: 'alice', exp: now + 60 })).toString('base64url')}.`,
        ),
    ],
    ['a WebSocket upgrade without a token', () => loadEvent('authorizer-websocket-no-token')],
    ['a WebSocket token that does not verify', () => loadEvent('authorizer-websocket-bad-token')],
    [
      'an expired REST token from the sample event',
      () =>
        loadEvent('authorizer-rest-expired-token', (u, expired) => issuer.sign(u, { expiresIn: expired ? -1 : 60 })),
    ],
  ];
  it.each(cases)('%s', async (_name, event) => {
    await expect(handler(event())).rejects.toThrow(/^Unauthorized$/);
  });

  it('a token of the wrong use when JWT_TOKEN_USE pins it', async () => {
    process.env.JWT_TOKEN_USE = 'id';
    await shutdownRuntime();
    try {
      await expect(handler(rest(`Bearer ${issuer.sign('dave', { tokenUse: 'access' })}`))).rejects.toThrow(
        /^Unauthorized$/,
      );
      expect((await handler(rest(`Bearer ${issuer.sign('dave')}`))).principalId).toBe('dave');
    } finally {
      process.env.JWT_TOKEN_USE = 'any';
      await shutdownRuntime();
    }
  });
});
