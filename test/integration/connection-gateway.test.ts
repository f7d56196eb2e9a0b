// The @connections gateway on the real SDK client and LeanHttpHandler against real local HTTP(S) servers: outcomes by
// status, signed requests, bodies intact, and requests that end (timeouts, refused connections, aborts, cut responses).
import { execFileSync } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import {
  ApiGatewayManagementApiClient,
  GetConnectionCommand,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { HttpRequest } from '@smithy/core/protocols';
import { ApiGatewayConnectionGateway } from '../../src/layer/adapters/apigw/connection-gateway';
import { sleep } from '../../src/layer/shared/async';
import { LeanHttpHandler } from '../../src/layer/adapters/lean-http-handler';
import { tempDir } from '../support/temp-dirs';

interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

type Answer = (req: Received, res: ServerResponse) => void;

/** The SDK client the gateway makes for `endpoint` (lean middleware, small serde config), to call directly. */
function leanClient(endpoint: string): ApiGatewayManagementApiClient {
  const gateway = new ApiGatewayConnectionGateway();
  return (gateway as unknown as { client(endpoint: string): ApiGatewayManagementApiClient }).client(endpoint);
}

/** A local stand-in for the management API that records requests and answers as `answer` says. */
async function standIn(answer: Answer): Promise<{ endpoint: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks) };
      received.push(request);
      answer(request, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}/prod`, received, server };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data).digest();

/** The SigV4 signature of a received request, computed independently of the SDK (test/support/env.ts credentials). */
function expectedSignature(request: Received, signedHeaders: string[], scope: string): string {
  const [date, region, service] = scope.split('/') as [string, string, string];
  const path = request.url.split('/').map(encodeURIComponent).join('/');
  const canonical = [
    request.method,
    path,
    '',
    ...signedHeaders.map((name) => `${name}:${String(request.headers[name]).trim()}`),
    '',
    signedHeaders.join(';'),
    sha256(request.body),
  ].join('\n');
  const toSign = ['AWS4-HMAC-SHA256', request.headers['x-amz-date'], scope, sha256(canonical)].join('\n');
  let key: Buffer = hmac(`AWS4${process.env.AWS_SECRET_ACCESS_KEY}`, date);
  for (const part of [region, service, 'aws4_request']) key = hmac(key, part);
  return createHmac('sha256', key).update(toSign).digest('hex');
}

const ok: Answer = (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end();
};

describe('ApiGatewayConnectionGateway', () => {
  it('posts the payload bytes intact, non-ASCII included, and answers "sent" to a 200 with an empty body', async () => {
    // Arrange
    const api = await standIn(ok);
    const gateway = new ApiGatewayConnectionGateway();
    const payload = JSON.stringify({
      type: 'update-presence',
      userId: 'zoë',
      status: 'online',
      note: 'naïve – 日本 🎉',
    });
    // Act
    const outcome = await gateway.post(api.endpoint, 'AbC1=', payload);
    // Assert
    expect(outcome).toBe('sent');
    expect(api.received).toHaveLength(1);
    expect(api.received[0]!.method).toBe('POST');
    expect(api.received[0]!.url).toBe('/prod/@connections/AbC1%3D');
    expect(api.received[0]!.body.toString('utf8')).toBe(payload);
    expect(api.received[0]!.headers['content-length']).toBe(String(Buffer.byteLength(payload)));
  });

  it('signs each request with SigV4 for execute-api, over the host it sends to and the body it sends', async () => {
    // Arrange
    const api = await standIn(ok);
    const gateway = new ApiGatewayConnectionGateway();
    // Act
    await gateway.post(api.endpoint, 'c1', '{"n":1}');
    await gateway.post(api.endpoint, 'c1', '{"n":2}');
    // Assert
    const port = (api.server.address() as AddressInfo).port;
    for (const request of api.received) {
      expect(request.headers.host).toBe(`127.0.0.1:${port}`);
      expect(request.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
      const auth =
        /^AWS4-HMAC-SHA256 Credential=([^/]+)\/([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
          String(request.headers.authorization),
        );
      expect(auth).not.toBeNull();
      const [, accessKeyId, scope, signedHeaders, signature] = auth as unknown as string[];
      expect(accessKeyId).toBe(process.env.AWS_ACCESS_KEY_ID);
      expect(scope).toMatch(/^\d{8}\/us-east-1\/execute-api\/aws4_request$/);
      expect(signedHeaders!.split(';')).toEqual(expect.arrayContaining(['host', 'x-amz-date']));
      expect(signature).toBe(expectedSignature(request, signedHeaders!.split(';'), scope!));
    }
    expect(api.received[0]!.headers.authorization).not.toBe(api.received[1]!.headers.authorization);
  });

  it('sends the session token of temporary credentials (as Lambda has them) and signs it', async () => {
    // Arrange
    const api = await standIn(ok);
    const saved = process.env.AWS_SESSION_TOKEN;
    process.env.AWS_SESSION_TOKEN = 'session-token-from-the-environment';
    try {
      const gateway = new ApiGatewayConnectionGateway();
      // Act
      const outcome = await gateway.post(api.endpoint, 'c1', 'x');
      // Assert
      expect(outcome).toBe('sent');
      expect(api.received[0]!.headers['x-amz-security-token']).toBe('session-token-from-the-environment');
      expect(String(api.received[0]!.headers.authorization)).toContain('x-amz-security-token');
    } finally {
      if (saved === undefined) delete process.env.AWS_SESSION_TOKEN;
      else process.env.AWS_SESSION_TOKEN = saved;
    }
  });

  it.each([
    [
      'a 410 GoneException',
      { 'content-type': 'application/json', 'x-amzn-errortype': 'GoneException' },
      '{"message":"Gone"}',
    ],
    ['a 410 without an error type header or a JSON body', { 'content-type': 'text/plain' }, 'gone'],
  ])('answers "gone" to %s', async (_case, headers, body) => {
    // Arrange
    const api = await standIn((_req, res) => {
      res.writeHead(410, headers);
      res.end(body);
    });
    // Act
    const outcome = await new ApiGatewayConnectionGateway().post(api.endpoint, 'c1', 'x');
    // Assert
    expect(outcome).toBe('gone');
  });

  it("deserializes the service's answers through the lean client: a modeled GoneException and GetConnection's output", async () => {
    // Arrange: the gateway's own client, whose serde reads only the config keys it needs (SERDE_CONFIG_KEYS)
    const api = await standIn((req, res) => {
      if (req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ connectedAt: '2026-11-30T12:00:00.000Z', identity: { sourceIp: '192.0.2.1' } }));
        return;
      }
      res.writeHead(410, {
        'content-type': 'application/json',
        'x-amzn-errortype': 'GoneException',
        'x-amzn-requestid': 'r-1',
      });
      res.end('{"message":"Connection is gone"}');
    });
    const client = leanClient(api.endpoint);
    // Act
    const error = await client.send(new PostToConnectionCommand({ ConnectionId: 'c1', Data: 'x' })).then(
      () => undefined,
      (e: unknown) => e,
    );
    const connection = await client.send(new GetConnectionCommand({ ConnectionId: 'c1' }));
    // Assert
    expect(error).toBeInstanceOf(GoneException);
    expect(error).toMatchObject({
      name: 'GoneException',
      message: 'Connection is gone',
      $fault: 'client',
      $metadata: { httpStatusCode: 410, requestId: 'r-1' },
    });
    expect(connection.ConnectedAt).toEqual(new Date('2026-11-30T12:00:00.000Z'));
    expect(connection.Identity?.SourceIp).toBe('192.0.2.1');
  });

  it('gives the serde every client config key it reads, on success and on every error shape', async () => {
    // Arrange: the gateway's own client; its protocol's per-call contexts and serde context are watched for reads of a
    // key the client config has but the serde's small config (SERDE_CONFIG_KEYS) lacks
    const answers: [number, Record<string, string>, string][] = [
      [200, {}, ''],
      [410, { 'content-type': 'application/json', 'x-amzn-errortype': 'GoneException' }, '{"message":"Gone"}'],
      [410, {}, ''],
      [429, { 'content-type': 'application/json', 'x-amzn-errortype': 'LimitExceededException' }, '{"message":"Slow"}'],
      [403, { 'content-type': 'application/json', 'x-amzn-errortype': 'ForbiddenException' }, '{"message":"No"}'],
      [500, { 'content-type': 'text/html' }, '<html>oops</html>'],
      [200, { 'content-type': 'application/json' }, '{"connectedAt":"2026-11-30T12:00:00.000Z"}'],
    ];
    let next = 0;
    const api = await standIn((_req, res) => {
      const [status, headers, body] = answers[next++ % answers.length]!;
      res.writeHead(status, headers);
      res.end(body);
    });
    const client = leanClient(api.endpoint);
    const full = client.config as unknown as Record<string, unknown>;
    const missing = new Set<string>();
    const watch = <T extends object>(target: T): T =>
      new Proxy(target, {
        get(object, key, receiver) {
          if (typeof key === 'string' && !(key in object) && key in full) missing.add(key);
          return Reflect.get(object, key, receiver) as unknown;
        },
      });
    type Protocol = {
      serdeContext: object;
      setSerdeContext(context: object): void;
      serializeRequest(schema: unknown, input: unknown, context: object): Promise<unknown>;
      deserializeResponse(schema: unknown, context: object, response: unknown): Promise<unknown>;
    };
    const protocol = full.protocol as Protocol;
    protocol.setSerdeContext(watch(protocol.serdeContext));
    const serialize = protocol.serializeRequest.bind(protocol);
    const deserialize = protocol.deserializeResponse.bind(protocol);
    protocol.serializeRequest = (schema, input, context) => serialize(schema, input, watch(context));
    protocol.deserializeResponse = (schema, context, response) => deserialize(schema, watch(context), response);
    // Act
    const outcomes: string[] = [];
    for (let i = 0; i < answers.length - 1; i += 1)
      outcomes.push(
        await client.send(new PostToConnectionCommand({ ConnectionId: `c${i}`, Data: 'x' })).then(
          () => 'sent',
          (error: { name: string }) => error.name,
        ),
      );
    const connection = await client.send(new GetConnectionCommand({ ConnectionId: 'c' }));
    // Assert
    expect(outcomes).toEqual([
      'sent',
      'GoneException',
      // without the error type header the SDK cannot name a 410 (the gateway goes by the status)
      'Unknown',
      'LimitExceededException',
      'ForbiddenException',
      expect.any(String),
    ]);
    expect(connection.ConnectedAt).toEqual(new Date('2026-11-30T12:00:00.000Z'));
    expect([...missing]).toEqual([]);
  });

  it('answers "throttled" to a 429 and "failed" to a 500, counting only the 500 as a failure', async () => {
    // Arrange
    const api = await standIn((req, res) => {
      const throttled = req.url.endsWith('/throttled');
      res.writeHead(throttled ? 429 : 500, {
        'content-type': 'application/json',
        'x-amzn-errortype': throttled ? 'TooManyRequestsException' : 'InternalServerErrorException',
      });
      res.end(JSON.stringify({ message: throttled ? 'Too Many Requests' : 'Internal' }));
    });
    const gateway = new ApiGatewayConnectionGateway();
    // Act
    const throttled = await gateway.post(api.endpoint, 'throttled', 'x');
    const failed = await gateway.post(api.endpoint, 'broken', 'x');
    // Assert
    expect([throttled, failed]).toEqual(['throttled', 'failed']);
    expect(gateway.failures).toBe(1);
    expect(api.received).toHaveLength(2);
  });

  it('closes its sockets on destroy, and posts again afterwards on a new one', async () => {
    // Arrange
    const api = await standIn((_req, res) => {
      res.writeHead(200, { 'content-length': '0' });
      res.end();
    });
    // The server keeps idle sockets open long enough that only the client can have closed one
    api.server.keepAliveTimeout = 60_000;
    const sockets: Socket[] = [];
    api.server.on('connection', (socket: Socket) => sockets.push(socket));
    const gateway = new ApiGatewayConnectionGateway();
    expect(await gateway.post(api.endpoint, 'c1', 'x')).toBe('sent');
    const [first] = sockets;
    const closed = new Promise<string>((resolve) => first?.once('close', () => resolve('closed')));
    // Act
    await gateway.destroy();
    // Assert
    expect(await Promise.race([closed, sleep(1000).then(() => 'still open')])).toBe('closed');
    expect(await gateway.post(api.endpoint, 'c2', 'y')).toBe('sent');
    expect(sockets).toHaveLength(2);
  });

  it('never retries: one request per post, also when it fails', async () => {
    // Arrange
    const api = await standIn((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end('{}');
    });
    // Act
    const outcome = await new ApiGatewayConnectionGateway().post(api.endpoint, 'c1', 'x');
    // Assert
    expect(outcome).toBe('failed');
    expect(api.received).toHaveLength(1);
  });

  it('fails a post the API never answers within the request timeout', async () => {
    // Arrange
    const api = await standIn(() => undefined);
    const gateway = new ApiGatewayConnectionGateway({ requestTimeoutMs: 300 });
    const start = Date.now();
    // Act
    const outcome = await gateway.post(api.endpoint, 'c1', 'x');
    // Assert
    expect(outcome).toBe('failed');
    expect(Date.now() - start).toBeLessThan(2000);
  });

  it('fails a post to a port nobody listens on at once', async () => {
    // Arrange
    const closed = await standIn(ok);
    const endpoint = closed.endpoint;
    closed.server.close();
    const start = Date.now();
    // Act
    const outcome = await new ApiGatewayConnectionGateway().post(endpoint, 'c1', 'x');
    // Assert
    expect(outcome).toBe('failed');
    expect(Date.now() - start).toBeLessThan(1000);
  });

  it('closes with a signed DELETE, takes a 410 as closed, and throws on other errors', async () => {
    // Arrange
    const api = await standIn((req, res) => {
      const status = req.url.endsWith('/gone') ? 410 : req.url.endsWith('/broken') ? 500 : 204;
      res.writeHead(status, status === 410 ? { 'x-amzn-errortype': 'GoneException' } : {});
      res.end();
    });
    const gateway = new ApiGatewayConnectionGateway();
    // Act
    await gateway.close(api.endpoint, 'c1');
    await gateway.close(api.endpoint, 'gone');
    const broken = gateway.close(api.endpoint, 'broken');
    // Assert
    await expect(broken).rejects.toMatchObject({ $metadata: { httpStatusCode: 500 } });
    expect(api.received.map((r) => `${r.method} ${r.url}`)).toEqual([
      'DELETE /prod/@connections/c1',
      'DELETE /prod/@connections/gone',
      'DELETE /prod/@connections/broken',
    ]);
    expect(String(api.received[0]!.headers.authorization)).toMatch(/^AWS4-HMAC-SHA256 /);
  });
});

describe('LeanHttpHandler', () => {
  const post = (endpoint: string, body = 'x'): HttpRequest => {
    const url = new URL(endpoint);
    return new HttpRequest({
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      method: 'POST',
      path: '/prod/@connections/c1',
      headers: { host: url.host, 'content-length': String(Buffer.byteLength(body)) },
      body: Buffer.from(body),
    });
  };

  it('hands the SDK the status, the headers and the body as bytes', async () => {
    // Arrange
    const api = await standIn((_req, res) => {
      res.writeHead(410, { 'content-type': 'application/json', 'x-amzn-errortype': 'GoneException' });
      res.end('{"message":"Gone"}');
    });
    const handler = new LeanHttpHandler();
    // Act
    const { response } = await handler.handle(post(api.endpoint));
    // Assert
    expect(response.statusCode).toBe(410);
    expect(response.headers['x-amzn-errortype']).toBe('GoneException');
    expect(Buffer.from(response.body as Uint8Array).toString()).toBe('{"message":"Gone"}');
    handler.destroy();
  });

  it('ends a request when its abort signal fires', async () => {
    // Arrange
    const api = await standIn(() => undefined);
    const handler = new LeanHttpHandler({ requestTimeoutMs: 10_000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const start = Date.now();
    // Act
    const handled = handler.handle(post(api.endpoint), { abortSignal: controller.signal });
    // Assert
    await expect(handled).rejects.toMatchObject({ name: 'AbortError' });
    expect(Date.now() - start).toBeLessThan(5000);
    handler.destroy();
  });

  it('fails a request whose response is cut off before its body is complete', async () => {
    // Arrange
    const api = await standIn((_req, res) => {
      res.writeHead(500, { 'content-length': '100' });
      res.write('{"message":');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const handler = new LeanHttpHandler({ requestTimeoutMs: 10_000 });
    const start = Date.now();
    // Act
    const handled = handler.handle(post(api.endpoint));
    // Assert
    await expect(handled).rejects.toThrow();
    expect(Date.now() - start).toBeLessThan(5000);
    handler.destroy();
  });

  it('fails a request the server never answers with a TimeoutError after the request timeout', async () => {
    // Arrange
    const api = await standIn(() => undefined);
    const handler = new LeanHttpHandler({ requestTimeoutMs: 200 });
    // Act
    const handled = handler.handle(post(api.endpoint));
    // Assert
    await expect(handled).rejects.toMatchObject({ name: 'TimeoutError' });
    handler.destroy();
  });

  it('speaks TLS to an https endpoint and verifies its certificate', async () => {
    // Arrange: a self-signed certificate, made now; an https server that would answer 200.
    const dir = tempDir('lean-https-');
    const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert].concat([
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
      ]),
      { stdio: 'ignore' },
    );
    const server = createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (_req, res) => {
      res.writeHead(200);
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    const handler = new LeanHttpHandler();
    // Act
    const handled = handler.handle(post(`https://127.0.0.1:${(server.address() as AddressInfo).port}/prod`));
    // Assert: the TLS handshake happened and the unknown certificate was refused, not ignored.
    await expect(handled).rejects.toMatchObject({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    handler.destroy();
  });
});
