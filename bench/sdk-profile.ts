// Where the CPU of one @connections call goes: profiles the layer's gateway (or bare HTTP, for comparison), 16 calls
// in flight against the stand-in API in a child process, only during the measured calls, and prints self time per
// call by package and by function. `npx tsx bench/sdk-profile.ts [calls] [gateway|bare] [out.cpuprofile]`.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { ApiGatewayConnectionGateway } from '../src/layer/adapters/apigw/connection-gateway';
import { startConnectionsApi } from './support/connections-api';
import { barePost, cpuPerCall } from './support/post-loop';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The package a script belongs to, node's own module, or the project; '' for V8's and native frames. */
function packageOf(url: string): string {
  if (!url) return '';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (pkg) return pkg;
  if (url.startsWith('node:'))
    return `node:${
      url
        .slice(5)
        .replace(/^internal\//, '')
        .split('/')[0]
    }`;
  return 'project';
}

function location(url: string, line: number): string {
  if (!url) return '';
  const inPackage = url.split('node_modules/').pop()!;
  const short = inPackage.replace(/^((?:@[^/]+\/)?[^/]+)\/dist-cjs\//, '$1/').replace(/^.*\/(src|bench)\//, '$1/');
  return url.startsWith('node:') ? url : `${short}:${line + 1}`;
}

/**
 * Sample times are wall clock (a descheduled process still ages the next sample), so shares are taken from the profile
 * and scaled to the CPU per call that process.cpuUsage measured over the same calls.
 */
function summarise(profile: Profile, cpuPerCall: number, top: number): string {
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  // Native frames (the socket write, hashing, GC) are counted to the package whose code called them.
  const caller = new Map<number, string>();
  // And everything, node's own modules included, to the nearest package or project code that led to it.
  const origin = new Map<number, string>();
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const visit = (node: ProfileNode, inherited: string, inheritedOrigin: string): void => {
    const pkg = packageOf(node.callFrame.url);
    const own = pkg || inherited;
    const ownOrigin = pkg && !pkg.startsWith('node:') ? pkg : inheritedOrigin;
    caller.set(node.id, own);
    origin.set(node.id, ownOrigin);
    for (const child of node.children ?? []) visit(byId.get(child)!, own, ownOrigin);
  };
  visit(profile.nodes[0]!, '(V8: GC, microtasks, idle)', '(node: event loop, socket and timer callbacks)');
  const byOrigin = new Map<string, number>();
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let busy = 0;
  for (const node of profile.nodes) {
    const time = self.get(node.id) ?? 0;
    const { functionName, url, lineNumber } = node.callFrame;
    // Idle is the event loop waiting for the stand-in's answers, not CPU.
    if (!time || functionName === '(idle)') continue;
    busy += time;
    const pkg = caller.get(node.id)!;
    const fn = `${functionName || '(anonymous)'} ${location(url, lineNumber) || `(native, from ${pkg})`}`;
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + time);
    byOrigin.set(origin.get(node.id)!, (byOrigin.get(origin.get(node.id)!) ?? 0) + time);
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + time);
  }
  const rows = (map: Map<string, number>, n: number): string[] =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(
        ([name, time]) =>
          `| ${((cpuPerCall * time) / busy).toFixed(1)} | ${((100 * time) / busy).toFixed(1)} % | \`${name}\` |`,
      );
  const head = '| µs/call | share | |\n|---:|---:|---|';
  return [
    'By package (native frames counted to their caller):',
    '',
    head,
    ...rows(byPackage, 15),
    '',
    'By the package whose code led to it (node:http, crypto and native work counted to the caller):',
    '',
    head,
    ...rows(byOrigin, 12),
    '',
    'By function (self time):',
    '',
    head,
    ...rows(byFunction, top),
  ].join('\n');
}

async function main(): Promise<void> {
  const calls = Number(process.argv[2] ?? 20000);
  const variant = process.argv[3] ?? 'gateway';
  const out = process.argv[4];
  const api = await startConnectionsApi();
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench', AWS_REGION: 'us-east-1' });
  const { endpoint } = api;
  const payload = JSON.stringify({ type: 'update-presence', userId: 'bench', status: 'online', v: 1 });
  const gateway = new ApiGatewayConnectionGateway();
  const bare = barePost(endpoint, Buffer.from(payload));
  const post = variant === 'bare' ? bare.post : () => gateway.post(endpoint, 'c1', payload);
  for (let i = 0; i < 500; i += 1) await post();

  const session = new Session();
  session.connect();
  const send = (method: string, params?: object): Promise<unknown> =>
    new Promise((resolve, reject) =>
      session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))),
    );
  await send('Profiler.enable');
  await send('Profiler.setSamplingInterval', { interval: 100 });
  await send('Profiler.start');
  const cpuPerCallUs = await cpuPerCall(post, calls, 16);
  const { profile } = (await send('Profiler.stop')) as { profile: Profile };
  session.disconnect();
  if (out) writeFileSync(out, JSON.stringify(profile));
  console.log(`${cpuPerCallUs.toFixed(1)} µs CPU per call (process.cpuUsage, ${calls} calls), ${variant}`);
  console.log(`failures: ${gateway.failures}\n`);
  console.log(summarise(profile, cpuPerCallUs, 30));
  bare.close();
  await api.stop();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
