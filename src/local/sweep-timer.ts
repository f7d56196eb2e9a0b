// Invokes the sweep function every SWEEP_INTERVAL_SECONDS with a scheduled event, as the EventBridge rule does in AWS.
import { randomUUID } from 'node:crypto';
import { SWEEP_FUNCTION } from '../routes';
import type { GatewayIdentity } from './gateway-identity';
import type { HandlerRegistry } from './handler-registry';
import { lambdaContext } from './handler-registry';
import { logRequest, since } from './request-log';

/** The EventBridge "Scheduled Event" the sweep function receives. */
export function scheduledEvent(gw: GatewayIdentity) {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: gw.accountId,
    time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: gw.region,
    resources: [`arn:aws:events:${gw.region}:${gw.accountId}:rule/presence-local-SweepSchedule`],
    detail: {},
  };
}

/** A running timer; `stop()` waits for an invocation in flight. */
export interface SweepTimer {
  stop(): Promise<void>;
}

/** Starts the timer; invocations never overlap (the next one is scheduled when the last one ends). */
export function startSweepTimer(gw: GatewayIdentity, handlers: HandlerRegistry, intervalMs: number): SweepTimer {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    running = (async () => {
      const started = performance.now();
      try {
        const stats = (await handlers[SWEEP_FUNCTION](
          scheduledEvent(gw),
          lambdaContext(SWEEP_FUNCTION, randomUUID(), 60_000),
        )) as Record<string, number> | undefined;
        const busy = stats && (stats.reaped || stats.changes || stats.sent || stats.retried || stats.shardErrors);
        if (busy) {
          const note = Object.entries(stats)
            .filter(([k, v]) => v && k !== 'passes')
            .map(([k, v]) => `${k}=${v}`)
            .join(' ');
          logRequest({ kind: 'SWEEP', what: SWEEP_FUNCTION, status: 'ok', ms: since(started), note });
        }
      } catch (error) {
        logRequest({
          kind: 'SWEEP',
          what: SWEEP_FUNCTION,
          status: 'failed',
          ms: since(started),
          note: error instanceof Error ? error.message : String(error),
        });
      }
      if (!stopped) timer = setTimeout(tick, intervalMs);
    })();
  };
  timer = setTimeout(tick, intervalMs);
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
