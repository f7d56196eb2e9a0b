// ConnectionGateway whose @connections calls run on worker threads, each with its own ApiGatewayConnectionGateway.
//
// A call costs about 0.1–0.3 ms of CPU in the SDK (docs/bench/sdk-profile.md), and a mass expiry or a large fan-out is
// thousands of calls: on one thread they queue behind each other and behind the store work that plans them. A Lambda
// function with more than 1,769 MB has more than one vCPU; these threads use them. The main thread keeps planning,
// the rate cap, retries and acks, and only hands each call over (a few µs, batched per event-loop turn).
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { ConnectionGateway, PostOutcome } from '../../presence/ports';
import { ApiGatewayConnectionGateway } from './connection-gateway';

/** Marks a worker thread started by this module (the same file is the worker's entry point, bundled or not). */
const ROLE = 'presence-connections-sender';

/** Options of the SDK gateway each thread runs. */
export interface SenderOptions {
  readonly maxAttempts?: number;
  readonly requestTimeoutMs?: number;
  readonly maxSockets?: number;
}

/** A call handed to a thread: id, 0 = post / 1 = close, endpoint, connection id, payload (posts). */
type Call = [id: number, op: 0 | 1, endpoint: string, connectionId: string, payload: string];
/** A thread's answer: the call's id and its outcome; a failed close carries the error's name and message. */
type Answer = [id: number, outcome: PostOutcome | 'closed' | 'close-failed', error?: [name: string, message: string]];

/**
 * Collects the items of one event-loop turn and hands them to `deliver` together: one structured clone and one
 * wake-up of the other thread per turn, not one per call. Both ends of a sender use it.
 */
function perTurn<T>(deliver: (batch: T[]) => void): (item: T) => void {
  let batch: T[] = [];
  return (item) => {
    batch.push(item);
    if (batch.length > 1) return;
    setImmediate(() => {
      const items = batch;
      batch = [];
      deliver(items);
    });
  };
}

interface Waiting {
  readonly op: 0 | 1;
  readonly resolve: (outcome: PostOutcome) => void;
  readonly reject: (error: Error) => void;
}

/** One worker thread, its calls not yet answered, and the calls of this event-loop turn not yet handed over. */
class Sender {
  readonly waiting = new Map<number, Waiting>();
  private ended = false;
  private readonly hand = perTurn<Call>((calls) => {
    if (!this.ended) this.worker.postMessage(calls);
  });

  constructor(
    private readonly worker: Worker,
    private readonly onEnd: (sender: Sender) => void,
  ) {
    worker.on('message', (answers: Answer[]) => this.answer(answers));
    worker.on('error', (error) => this.end(error));
    worker.on('messageerror', (error) => this.end(error));
    worker.on('exit', (code) => this.end(new Error(`@connections sender thread exited with code ${code}`)));
    // Idle threads never keep the process alive; a thread with calls in flight does (see send).
    worker.unref();
  }

  get load(): number {
    return this.waiting.size;
  }

  send(call: Call, waiting: Waiting): void {
    if (this.waiting.size === 0) this.worker.ref();
    this.waiting.set(call[0], waiting);
    this.hand(call);
  }

  private answer(answers: Answer[]): void {
    for (const [id, outcome, error] of answers) {
      const waiting = this.waiting.get(id);
      if (!waiting) continue;
      this.waiting.delete(id);
      if (outcome === 'close-failed') {
        const failure = new Error(error?.[1] ?? 'close failed');
        failure.name = error?.[0] ?? 'Error';
        waiting.reject(failure);
      } else waiting.resolve(outcome === 'closed' ? 'sent' : outcome);
    }
    if (this.waiting.size === 0 && !this.ended) this.worker.unref();
  }

  /** The thread is gone: every call it held fails (posts as `failed`, closes with the error); they are retried. */
  private end(error: Error): Promise<unknown> {
    if (this.ended) return Promise.resolve();
    this.ended = true;
    this.onEnd(this);
    for (const waiting of this.waiting.values()) {
      if (waiting.op === 0) waiting.resolve('failed');
      else waiting.reject(error);
    }
    this.waiting.clear();
    return this.worker.terminate();
  }

  terminate(): Promise<unknown> {
    return this.end(new Error('@connections sender thread stopped'));
  }
}

/**
 * {@link ConnectionGateway} that runs its calls on `threads` worker threads (started on first use, replaced when one
 * dies), each holding one {@link ApiGatewayConnectionGateway}. Outcomes are those of that gateway; a thread that dies
 * fails the calls it held: posts answer `failed` and closes throw, so the delivery module retries them.
 */
export class ThreadedConnectionGateway implements ConnectionGateway {
  /** Posts made so far. */
  posts = 0;
  /** Posts that failed for another reason than 410/429, a dead thread included. */
  failures = 0;
  private readonly senders: Sender[] = [];
  private nextId = 0;

  constructor(
    private readonly threads: number,
    private readonly options: SenderOptions = {},
    /** The worker's entry point: this module (its source in development, the layer's bundle in Lambda). */
    private readonly entry: string = __filename,
  ) {
    if (!Number.isInteger(threads) || threads < 1) throw new Error(`threads must be a positive integer: ${threads}`);
  }

  async post(endpoint: string, connectionId: string, payload: string): Promise<PostOutcome> {
    this.posts += 1;
    const outcome = await this.call(0, endpoint, connectionId, payload);
    if (outcome === 'failed') this.failures += 1;
    return outcome;
  }

  async close(endpoint: string, connectionId: string): Promise<void> {
    await this.call(1, endpoint, connectionId, '');
  }

  /** Stops every thread (scripts, tests, local stack reloads); calls in flight fail as if the thread had died. */
  async destroy(): Promise<void> {
    await Promise.all(this.senders.splice(0).map((sender) => sender.terminate()));
  }

  private call(op: 0 | 1, endpoint: string, connectionId: string, payload: string): Promise<PostOutcome> {
    const sender = this.sender();
    const id = (this.nextId = (this.nextId + 1) % Number.MAX_SAFE_INTEGER);
    return new Promise<PostOutcome>((resolve, reject) =>
      sender.send([id, op, endpoint, connectionId, payload], { op, resolve, reject }),
    );
  }

  /** The least busy thread; the first call starts all of them (a thread takes a while to load the SDK). */
  private sender(): Sender {
    while (this.senders.length < this.threads) this.senders.push(this.start());
    let best = this.senders[0] as Sender;
    for (const sender of this.senders) if (sender.load < best.load) best = sender;
    return best;
  }

  private start(): Sender {
    const worker = new Worker(this.entry, {
      workerData: { role: ROLE, options: this.options },
      // Sources run through tsx (development, tests); the bundled layer is plain JavaScript. A process started with
      // --cpu-prof (the bench's --cpu-prof) profiles its sender threads too.
      execArgv: [
        ...process.execArgv.filter((arg) => arg.startsWith('--cpu-prof')),
        ...(this.entry.endsWith('.ts') ? ['--require', 'tsx/cjs'] : []),
      ],
      env: process.env,
    });
    return new Sender(worker, (ended) => {
      const at = this.senders.indexOf(ended);
      if (at >= 0) this.senders.splice(at, 1);
    });
  }
}

/** The worker thread: runs each call on its own SDK gateway and answers in one message per event-loop turn. */
function runSender(port: NonNullable<typeof parentPort>, options: SenderOptions): void {
  const gateway = new ApiGatewayConnectionGateway(options);
  const answer = perTurn<Answer>((answers) => port.postMessage(answers));
  port.on('message', (calls: Call[]) => {
    for (const [id, op, endpoint, connectionId, payload] of calls) {
      if (op === 0) void gateway.post(endpoint, connectionId, payload).then((outcome) => answer([id, outcome]));
      else
        gateway.close(endpoint, connectionId).then(
          () => answer([id, 'closed']),
          (error: unknown) => {
            const e = error instanceof Error ? error : new Error(String(error));
            answer([id, 'close-failed', [e.name, e.message]]);
          },
        );
    }
  });
}

if (!isMainThread && parentPort && (workerData as { role?: string } | null)?.role === ROLE) {
  runSender(parentPort, (workerData as { options: SenderOptions }).options);
}
