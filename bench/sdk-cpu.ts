// CPU per @connections call, client side only (the stand-in API runs in a child process): bare HTTP keep-alive, the
// SDK client as configured before, and each lean setting added in turn, so what each one buys is measured.
// `npx tsx bench/sdk-cpu.ts [calls]`; prints one line per variant and a JSON line.
import { fork } from 'node:child_process';
import { Agent, createServer, request } from 'node:http';
import { ApiGatewayManagementApiClient, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { ApiGatewayConnectionGateway } from '../src/layer/adapters/apigw/connection-gateway';
import { boundedHttpHandler } from '../src/layer/adapters/aws-http';

type Post = () => Promise<unknown>;

async function serve(): Promise<void> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-length': '0' });
      res.end();
    });
  });
  server.listen(0, '127.0.0.1', () => process.send?.((server.address() as { port: number }).port));
}

async function measure(post: Post, calls: number, concurrency: number): Promise<number> {
  for (let i = 0; i < 300; i += 1) await post();
  const cpu0 = process.cpuUsage();
  let started = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (started < calls) {
        started += 1;
        await post();
      }
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / calls;
}

async function main(): Promise<void> {
  if (process.argv[2] === 'serve') return serve();
  const calls = Number(process.argv[2] ?? 4000);
  const child = fork(__filename, ['serve'], { execArgv: ['--import', 'tsx'] });
  const port = await new Promise<number>((resolve) => child.once('message', (m) => resolve(m as number)));
  const endpoint = `http://127.0.0.1:${port}/prod`;
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench', AWS_REGION: 'us-east-1' });
  const data = Buffer.from(JSON.stringify({ type: 'update-presence', userId: 'bench', status: 'online', v: 1 }));
  const sdk = (lean: { cache?: boolean; remove?: string[] }): Post => {
    const client = new ApiGatewayManagementApiClient({
      endpoint,
      maxAttempts: 1,
      requestHandler: boundedHttpHandler(),
      ...(lean.cache ? { cacheMiddleware: true } : {}),
    });
    for (const name of lean.remove ?? []) client.middlewareStack.remove(name);
    return () => client.send(new PostToConnectionCommand({ ConnectionId: 'c1', Data: data }));
  };
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const raw: Post = () =>
    new Promise<void>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/prod/@connections/c1',
          method: 'POST',
          agent,
          headers: { 'content-length': data.length },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve());
        },
      );
      req.on('error', reject);
      req.end(data);
    });
  const gateway = new ApiGatewayConnectionGateway();
  const variants: [string, Post][] = [
    ['bare HTTP keep-alive (floor)', raw],
    ['SDK, default middleware', sdk({})],
    ['SDK + cacheMiddleware', sdk({ cache: true })],
    [
      'SDK + cacheMiddleware - user agent, logger, recursion detection',
      sdk({ cache: true, remove: ['getUserAgentMiddleware', 'loggerMiddleware', 'recursionDetectionMiddleware'] }),
    ],
    ["the layer's ApiGatewayConnectionGateway", () => gateway.post(endpoint, 'c1', data.toString())],
  ];
  const results: Record<string, number> = {};
  for (const [name, post] of variants) {
    results[name] = await measure(post, calls, 16);
    console.log(`${results[name].toFixed(1).padStart(7)} µs CPU per call  ${name}`);
  }
  console.log(JSON.stringify(results));
  child.kill();
  agent.destroy();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
