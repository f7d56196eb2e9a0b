// Tokens: REST reads them from the Authorization header only, and no handler writes one to a log, error paths included.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { APIGatewayProxyResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { handler as authorizer } from '../../src/functions/authorizer/handler';
import { handler as close } from '../../src/functions/close/handler';
import { handler as connect } from '../../src/functions/connect/handler';
import { handler as getPresence } from '../../src/functions/get-presence/handler';
import { handler as getUserPresence } from '../../src/functions/get-user-presence/handler';
import { handler as heartbeat } from '../../src/functions/heartbeat/handler';
import { handler as updatePresence } from '../../src/functions/update-presence/handler';
import { shutdownRuntime } from '../../src/layer/runtime';
import { createDevIssuer } from '../../src/local/dev-issuer';
import type { DevIssuer } from '../../src/local/dev-issuer';
import { loadEvent, restEvent, wsEvent } from '../../events/sample-events';
import { captureOutput } from '../support/capture-output';
import { freePort } from '../support/global-setup';
import { handlerEnvironment } from '../support/runtime-env';

type Env = Awaited<ReturnType<typeof handlerEnvironment>>;
let env: Env;
let jwksServer: Server;
let issuer: DevIssuer;

beforeAll(async () => {
  jwksServer = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(issuer.jwks));
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(jwksServer.address() as { port: number }).port}`;
  issuer = createDevIssuer({ issuer: base, audience: 'presence-local' });
  env = await handlerEnvironment({ STORE_TIMEOUT_MS: '400' });
  Object.assign(process.env, { JWT_ISSUER: base, JWT_AUDIENCE: 'presence-local', JWT_TOKEN_USE: 'any' });
  delete process.env.JWT_JWKS_URI;
  delete process.env.COGNITO_USER_POOL_ID;
});
afterAll(async () => {
  await env.close();
  jwksServer.closeAllConnections();
  await new Promise((resolve) => jwksServer.close(resolve));
});

/** The REST authorizer event with the given Authorization header (none when undefined) and query string. */
const restAuthorizerEvent = (authorization: string | undefined, query: Record<string, string> | null) => {
  const event = loadEvent<APIGatewayRequestAuthorizerEvent>('authorizer-rest');
  const headers: Record<string, string | undefined> = { ...event.headers };
  delete headers.Authorization;
  if (authorization !== undefined) headers.Authorization = authorization;
  event.headers = headers as APIGatewayRequestAuthorizerEvent['headers'];
  event.queryStringParameters = query;
  return event;
};

/** A handler event carrying `token` in every place a client might put one: header, query string, subprotocol. */
function withToken<T>(event: T, token: string): T {
  const e = event as { headers?: Record<string, string>; queryStringParameters?: Record<string, string> | null };
  e.headers = { ...e.headers, Authorization: `Bearer ${token}`, 'Sec-WebSocket-Protocol': `presence.v1, ${token}` };
  e.queryStringParameters = { ...e.queryStringParameters, Authorization: token, token };
  return event;
}

describe('REST reads the token from the Authorization header only', () => {
  it('a token in the query string alone is Unauthorized (401)', async () => {
    const token = issuer.sign('alice');
    await expect(authorizer(restAuthorizerEvent(undefined, { Authorization: token }))).rejects.toThrow(
      /^Unauthorized$/,
    );
    await expect(authorizer(restAuthorizerEvent(undefined, { token }))).rejects.toThrow(/^Unauthorized$/);
  });

  it('next to a header token, the query string is ignored', async () => {
    const query = { Authorization: issuer.sign('alice'), token: issuer.sign('alice') };
    expect((await authorizer(restAuthorizerEvent(`Bearer ${issuer.sign('bob')}`, query))).principalId).toBe('bob');
    await expect(authorizer(restAuthorizerEvent('Bearer not.a.jwt', query))).rejects.toThrow(/^Unauthorized$/);
  });

  it('WebSocket $connect still takes the query string and the subprotocol', async () => {
    const viaQuery = loadEvent<APIGatewayRequestAuthorizerEvent>('authorizer-websocket', (u) => issuer.sign(u));
    const viaProtocol = loadEvent<APIGatewayRequestAuthorizerEvent>('authorizer-websocket-subprotocol', (u) =>
      issuer.sign(u),
    );
    expect((await authorizer(viaQuery)).principalId).toBe('alice');
    expect((await authorizer(viaProtocol)).principalId).toBe('alice');
  });
});

describe('no token reaches a log', () => {
  const run = async (token: string) => {
    const connectionId = 'TokLog1=';
    await authorizer(restAuthorizerEvent(undefined, { Authorization: token })).catch(() => undefined);
    await authorizer(restAuthorizerEvent(`Bearer ${token}x`, null)).catch(() => undefined);
    await authorizer(withToken(loadEvent<APIGatewayRequestAuthorizerEvent>('authorizer-websocket'), token)).catch(
      () => undefined,
    );
    const statuses = [
      (await connect(withToken(wsEvent('connect', 'alice', connectionId), token) as never)).statusCode,
      (await heartbeat(withToken(wsEvent('heartbeat', 'alice', connectionId), token) as never)).statusCode,
      (
        await updatePresence(
          withToken(
            wsEvent('update-presence', 'alice', connectionId, {
              action: 'update-presence',
              jwt: token,
              url: `https://a.example/?t=${token}`,
            }),
            token,
          ) as never,
        )
      ).statusCode,
      (
        await heartbeat(
          withToken(wsEvent('default-not-json', 'alice', connectionId, `not json ${token}`), token) as never,
        )
      ).statusCode,
      ((await getPresence(withToken(restEvent('get-presence', 'alice'), token) as never)) as APIGatewayProxyResult)
        .statusCode,
      (
        (await getUserPresence(
          withToken(restEvent('get-user-presence', 'alice', `%ZZ${token}`), token) as never,
        )) as APIGatewayProxyResult
      ).statusCode,
      (await close(withToken(wsEvent('close', 'alice', connectionId), token) as never)).statusCode,
    ];
    return statuses;
  };

  it('on the normal paths', async () => {
    const token = issuer.sign('alice');
    const output = captureOutput();
    try {
      await run(token);
    } finally {
      output.restore();
    }
    expect(output.text()).toContain('token rejected');
    expect(output.text()).not.toContain(token);
    expect(output.text()).not.toContain(token.split('.')[2]);
  });

  it('on the error paths (Redis down: every handler fails and logs its error)', async () => {
    const token = issuer.sign('alice');
    const redisUrl = process.env.REDIS_URL;
    await shutdownRuntime();
    process.env.REDIS_URL = `redis://127.0.0.1:${await freePort()}`;
    const output = captureOutput();
    let statuses: number[];
    try {
      statuses = await run(token);
    } finally {
      output.restore();
      process.env.REDIS_URL = redisUrl;
      await shutdownRuntime();
    }
    expect(statuses).toEqual(expect.arrayContaining([503]));
    if (process.env.SHOW_CAPTURED) process.stderr.write(output.text());
    expect(output.text()).toMatch(/connect failed|request failed|message failed/);
    expect(output.text()).not.toContain(token);
    expect(output.text()).not.toContain(token.split('.')[2]);
  });
});
