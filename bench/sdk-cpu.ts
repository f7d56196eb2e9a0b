// CPU per @connections call, client side only (the stand-in API runs in a child process): bare HTTP keep-alive, the
// SDK client as configured before, and each lean setting added in turn, so what each one buys is measured.
// `npx tsx bench/sdk-cpu.ts [calls] [rounds]`; prints one line per variant (the median of the rounds, which run every
// variant in turn, so load on the machine hits them alike) and a JSON line of the medians.
import { ApiGatewayManagementApiClient, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { getSchemaSerdePlugin } from '@smithy/core/schema';
import type { RetryStrategyV2 } from '@smithy/types';
import {
  ApiGatewayConnectionGateway,
  LEAN_REMOVED_MIDDLEWARE,
  skipRetries,
  useFixedEndpoint,
  useFastConfig,
  useOneSigner,
} from '../src/layer/adapters/apigw/connection-gateway';
import { boundedHttpHandler } from '../src/layer/adapters/aws-http';
import { LeanHttpHandler } from '../src/layer/adapters/lean-http-handler';
import { startConnectionsApi } from './support/connections-api';
import type { Post } from './support/post-loop';
import { barePost, cpuPerCall } from './support/post-loop';
import { median } from './support/stats';

async function measure(post: Post, calls: number, concurrency: number): Promise<number> {
  for (let i = 0; i < 300; i += 1) await post();
  return cpuPerCall(post, calls, concurrency);
}

/** A retry strategy that does nothing, to measure against the standard one at one attempt (it buys nothing). */
const NO_RETRY: RetryStrategyV2 = {
  acquireInitialRetryToken: () => Promise.resolve({ getRetryCount: () => 0, getRetryDelay: () => 0 }),
  refreshRetryTokenForRetry: (_token, errorInfo) => Promise.reject(errorInfo.error),
  recordSuccess: () => undefined,
};

/** Lean settings; the steps below add them one at a time. */
interface Lean {
  cache?: boolean;
  remove?: string[];
  handler?: 'node' | 'lean';
  fixedEndpoint?: boolean;
  oneSigner?: boolean;
  retry?: 'standard' | 'no-op strategy' | 'no middleware';
  /** `whole`: the plain copy also given to the serde plugin (the first form of the step). */
  fastConfig?: boolean | 'whole';
  textBody?: boolean;
  unsigned?: boolean;
}

async function main(): Promise<void> {
  const calls = Number(process.argv[2] ?? 4000);
  const rounds = Number(process.argv[3] ?? 3);
  const api = await startConnectionsApi();
  const { endpoint } = api;
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench', AWS_REGION: 'us-east-1' });
  const data = Buffer.from(JSON.stringify({ type: 'update-presence', userId: 'bench', status: 'online', v: 1 }));
  const sdk = (lean: Lean): Post => {
    const client = new ApiGatewayManagementApiClient({
      endpoint: lean.fixedEndpoint ? { url: new URL(endpoint) } : endpoint,
      maxAttempts: 1,
      requestHandler: lean.handler === 'lean' ? new LeanHttpHandler() : boundedHttpHandler(),
      ...(lean.cache ? { cacheMiddleware: true } : {}),
      ...(lean.retry === 'no-op strategy' ? { retryStrategy: NO_RETRY } : {}),
    });
    for (const name of lean.remove ?? []) client.middlewareStack.remove(name);
    if (lean.retry === 'no middleware') skipRetries(client);
    if (lean.fixedEndpoint) useFixedEndpoint(client, endpoint);
    if (lean.oneSigner) useOneSigner(client);
    if (lean.fastConfig === 'whole') {
      const fast = { ...client.config };
      client.middlewareStack.use(getSchemaSerdePlugin(fast as unknown as Parameters<typeof getSchemaSerdePlugin>[0]));
      (client as { config: typeof fast }).config = fast;
    } else if (lean.fastConfig) useFastConfig(client);
    if (lean.unsigned) client.middlewareStack.remove('httpSigningMiddleware');
    const text = data.toString('utf8');
    return () => client.send(new PostToConnectionCommand({ ConnectionId: 'c1', Data: lean.textBody ? text : data }));
  };
  const raw = barePost(endpoint, data);
  const gateway = new ApiGatewayConnectionGateway();
  // Each step adds to the last kept one; a step that is not kept is measured on its own and left out after it.
  const steps: { name: string; lean: Lean; kept: boolean }[] = [
    { name: 'SDK, default middleware', lean: {}, kept: true },
    { name: 'SDK + cacheMiddleware', lean: { cache: true }, kept: true },
    {
      name: 'SDK + cacheMiddleware - user agent, logger, recursion detection',
      lean: { remove: LEAN_REMOVED_MIDDLEWARE },
      kept: true,
    },
    { name: '  + LeanHttpHandler', lean: { handler: 'lean' }, kept: true },
    { name: '  + fixed endpoint (parsed once, no rule set)', lean: { fixedEndpoint: true }, kept: true },
    { name: '  + one signer per client', lean: { oneSigner: true }, kept: true },
    { name: '  + no-op retry strategy (not kept)', lean: { retry: 'no-op strategy' }, kept: false },
    { name: '  + pass-through retry middleware', lean: { retry: 'no middleware' }, kept: true },
    { name: '  + plain-object config for the per-call copies', lean: { fastConfig: 'whole' }, kept: true },
    { name: '  + only the keys the serde reads in its per-call merge', lean: { fastConfig: true }, kept: true },
    { name: '  + the JSON text as the body (no copy; buys nothing measurable)', lean: { textBody: true }, kept: true },
    { name: '  (attribution only, not deployable: unsigned)', lean: { unsigned: true }, kept: false },
  ];
  const variants: [string, Post][] = [['bare HTTP keep-alive (floor)', raw.post]];
  let kept: Lean = {};
  for (const step of steps) {
    const lean = { ...kept, ...step.lean };
    variants.push([step.name, sdk(lean)]);
    if (step.kept) kept = lean;
  }
  const payload = data.toString();
  variants.push([
    "the layer's ApiGatewayConnectionGateway",
    async () => {
      // The gateway answers failures with an outcome: a failing variant must not pass for a cheap one.
      const outcome = await gateway.post(endpoint, 'c1', payload);
      if (outcome !== 'sent') throw new Error(`gateway post ${outcome}`);
    },
  ]);
  // Before anything is measured: the first variant would otherwise also pay for warming up the JIT and the stand-in.
  for (const [, post] of variants) for (let i = 0; i < 500; i += 1) await post();
  const samples = new Map<string, number[]>(variants.map(([name]) => [name, []]));
  for (let round = 0; round < rounds; round += 1) {
    for (const [name, post] of variants) samples.get(name)!.push(await measure(post, calls, 16));
  }
  const results: Record<string, number> = {};
  for (const [name, values] of samples) {
    results[name] = median(values);
    const spread = values.map((v) => v.toFixed(0)).join(' / ');
    console.log(`${results[name].toFixed(1).padStart(7)} µs CPU per call  ${name}  (rounds: ${spread})`);
  }
  console.log(JSON.stringify(results));
  raw.close();
  await api.stop();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
