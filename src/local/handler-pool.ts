// Runs the Lambda handlers in worker threads, as Lambda runs them in execution environments of their own: the gateway
// thread only moves frames and `@connections` calls, so one busy core no longer holds every handler, socket and post.
// The pool is a HandlerRegistry, so the gateways, the sweep timer and the work queue call it as they call handlers.
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { EventPublisher, SweepQueue, WorkMessage } from '@presence/layer';
import type { FunctionName } from '../routes';
import { FUNCTION_NAMES } from '../routes';
import type { HandlerRegistry, LocalHandler, LocalLambdaContext } from './handler-registry';

/** Main thread -> handler thread. */
export type ToThread =
  | {
      readonly kind: 'invoke';
      readonly id: number;
      readonly name: FunctionName;
      readonly event: unknown;
      readonly requestId: string;
      /** Epoch ms the invocation times out (the context's remaining time, carried across the thread boundary). */
      readonly deadline: number;
    }
  | { readonly kind: 'host-reply'; readonly id: number; readonly error?: string }
  | { readonly kind: 'stop' };

/** What a handler thread asks of the main thread: the ports that live there (work queue, event bus). */
export type HostCall =
  | { readonly op: 'notify'; readonly shards: readonly number[]; readonly delayMs: number | undefined }
  | { readonly op: 'send'; readonly message: WorkMessage }
  | { readonly op: 'publish'; readonly events: Parameters<EventPublisher['publish']>[0] };

/** Handler thread -> main thread. */
export type FromThread =
  | { readonly kind: 'ready' }
  | { readonly kind: 'failed-start'; readonly error: string }
  | { readonly kind: 'result'; readonly id: number; readonly value: unknown }
  | { readonly kind: 'error'; readonly id: number; readonly name: string; readonly message: string; stack?: string }
  | ({ readonly kind: 'host'; readonly id: number } & HostCall)
  | { readonly kind: 'stopped' };

/** The ports the handler threads reach through the main thread. */
export interface PoolHost {
  readonly queue: SweepQueue;
  readonly events: EventPublisher;
}

/** A running pool. */
export interface HandlerPool {
  /** Every handler, each call dispatched to the least busy thread. */
  readonly handlers: HandlerRegistry;
  readonly size: number;
  /** Invocations answered by each thread so far (tests read it). */
  invocationsPerThread(): number[];
  /** Ends one thread abruptly, as a crashed execution environment (tests use it); a replacement starts. */
  crashThreadForTest(index: number): Promise<void>;
  /** Lets the threads close their Redis and Postgres clients, then ends them. */
  stop(): Promise<void>;
}

/** `LOCAL_HANDLER_THREADS` when unset: one per core, at most 4 (Redis, Postgres and the gateway need cores too). */
export function defaultHandlerThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

/** A thread's boot code: tsx's require hook (the source is TypeScript), then the thread module. */
const BOOT = `require(require.resolve('tsx/cjs', { paths: [${JSON.stringify(__dirname)}] }));
require(${JSON.stringify(join(__dirname, 'handler-thread.ts'))});`;

/** How long a thread may take to load the handlers and connect its stores. */
const START_TIMEOUT_MS = 60_000;

interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
}

class HandlerThread {
  readonly pending = new Map<number, Pending>();
  answered = 0;
  /** False from the moment the thread fails or is ended: it takes no new invocations. */
  alive = true;
  /** Whether it finished starting (a thread that never starts is not replaced, or a bad setting would loop). */
  started = false;
  private stopped: (() => void) | undefined;

  constructor(
    readonly worker: Worker,
    private readonly host: PoolHost,
    private readonly onExit: (thread: HandlerThread, code: number) => void,
  ) {
    worker.on('message', (message: FromThread) => this.receive(message));
    worker.on('error', () => (this.alive = false)); // an uncaught error ends the thread: 'exit' follows
    worker.once('exit', (code) => {
      this.alive = false;
      this.stopped?.();
      const error = new Error(`handler thread exited with code ${code}`);
      for (const p of this.pending.values()) p.reject(error);
      this.pending.clear();
      this.onExit(this, code);
    });
  }

  /** Resolves once the thread has loaded the handlers and connected its stores. */
  ready(): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('handler thread did not start in time')), START_TIMEOUT_MS);
      const done = (error?: Error) => {
        clearTimeout(timer);
        this.worker.off('message', onMessage);
        this.worker.off('exit', onExit);
        if (error) reject(error);
        else resolve();
      };
      const onMessage = (m: FromThread) => {
        if (m.kind === 'ready') {
          this.started = true;
          done();
        } else if (m.kind === 'failed-start') done(new Error(`handler thread failed to start: ${m.error}`));
      };
      const onExit = (code: number) => done(new Error(`handler thread exited with code ${code} while starting`));
      this.worker.on('message', onMessage);
      this.worker.on('exit', onExit);
    });
  }

  invoke(id: number, name: FunctionName, event: unknown, context: LocalLambdaContext): Promise<unknown> {
    if (!this.alive) return Promise.reject(new Error('handler thread exited'));
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const message: ToThread = {
        kind: 'invoke',
        id,
        name,
        event,
        requestId: context.awsRequestId,
        deadline: Date.now() + context.getRemainingTimeInMillis(),
      };
      this.worker.postMessage(message);
    });
  }

  /** Asks the thread to close its clients; resolves when it has (or after `ms`). */
  stop(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.stopped = () => {
        clearTimeout(timer);
        resolve();
      };
      this.worker.postMessage({ kind: 'stop' } satisfies ToThread);
    });
  }

  private receive(message: FromThread): void {
    if (message.kind === 'result' || message.kind === 'error') {
      const p = this.pending.get(message.id);
      if (!p) return;
      this.pending.delete(message.id);
      this.answered += 1;
      if (message.kind === 'result') p.resolve(message.value);
      else p.reject(Object.assign(new Error(message.message), { name: message.name, stack: message.stack }));
    } else if (message.kind === 'host') {
      this.serve(message).then(
        () => this.worker.postMessage({ kind: 'host-reply', id: message.id } satisfies ToThread),
        (error: unknown) =>
          this.worker.postMessage({ kind: 'host-reply', id: message.id, error: String(error) } satisfies ToThread),
      );
    } else if (message.kind === 'stopped') this.stopped?.();
  }

  private serve(call: HostCall): Promise<void> {
    if (call.op === 'notify') return this.host.queue.notify(call.shards, call.delayMs);
    if (call.op === 'send') return this.host.queue.send(call.message);
    return this.host.events.publish(call.events);
  }
}

/** Starts `threads` handler threads (each loads every handler and connects its own stores) and waits for them. */
export async function startHandlerPool(threads: number, host: PoolHost): Promise<HandlerPool> {
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`a handler pool needs at least one thread`);
  const live: HandlerThread[] = [];
  let stopping = false;
  let nextId = 0;

  const spawnThread = (): HandlerThread => {
    // The environment as this thread sees it now (the stack has pointed it at its own port and stores), passed
    // explicitly: a host that replaces process.env with its own object (Jest does) would otherwise hand the thread
    // the process's original environment.
    const worker = new Worker(BOOT, { eval: true, env: { ...process.env } });
    return new HandlerThread(worker, host, (gone) => replace(gone));
  };
  // As Lambda does after a crashed environment: the next invocation gets a fresh one.
  const replace = (gone: HandlerThread): void => {
    const i = live.indexOf(gone);
    if (i < 0 || stopping || !gone.started) return;
    const replacement = spawnThread();
    live[i] = replacement;
    replacement.ready().catch(() => undefined);
  };

  for (let i = 0; i < threads; i += 1) live.push(spawnThread());
  try {
    await Promise.all(live.map((t) => t.ready()));
  } catch (error) {
    stopping = true;
    await Promise.all(live.map((t) => t.worker.terminate()));
    throw error;
  }

  const leastBusy = (): HandlerThread => {
    let best: HandlerThread | undefined;
    for (const t of live) if (t.alive && (!best || t.pending.size < best.pending.size)) best = t;
    return best ?? (live[0] as HandlerThread);
  };
  const handler =
    (name: FunctionName): LocalHandler =>
    (event, context) => {
      if (stopping) return Promise.reject(new Error('the handler pool is stopping'));
      nextId += 1;
      return leastBusy().invoke(nextId, name, event, context);
    };

  return {
    handlers: Object.freeze(
      Object.fromEntries(FUNCTION_NAMES.map((name) => [name, handler(name)])) as Record<FunctionName, LocalHandler>,
    ),
    size: threads,
    invocationsPerThread: () => live.map((t) => t.answered),
    crashThreadForTest: async (index) => {
      const thread = live[index];
      if (!thread) throw new Error(`no handler thread ${index}`);
      thread.alive = false;
      await thread.worker.terminate();
    },
    stop: async () => {
      if (stopping) return;
      stopping = true;
      await Promise.all(live.map((t) => t.stop(5000)));
      await Promise.all(live.map((t) => t.worker.terminate()));
    },
  };
}
