// The client-side CPU loop of the @connections benches (bench/sdk-cpu.ts, bench/sdk-profile.ts): a bare keep-alive POST
// as the floor, and calls kept in flight while process.cpuUsage counts.
import { Agent, request } from 'node:http';

/** One call. */
export type Post = () => Promise<unknown>;

/** A bare keep-alive `POST @connections/c1` of `data` to `endpoint` (the floor an SDK call is compared with). */
export function barePost(endpoint: string, data: Buffer): { post: Post; close: () => void } {
  const url = new URL(endpoint);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const post: Post = () =>
    new Promise<void>((resolve, reject) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: `${url.pathname}/@connections/c1`,
          method: 'POST',
          agent,
          headers: { 'content-length': data.length },
        },
        (res) => res.resume().on('end', resolve),
      );
      req.on('error', reject);
      req.end(data);
    });
  return { post, close: () => agent.destroy() };
}

/** Runs `calls` calls, `concurrency` in flight; answers this process's CPU µs per call. */
export async function cpuPerCall(post: Post, calls: number, concurrency: number): Promise<number> {
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
