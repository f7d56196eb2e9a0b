// The WebSocket stage throttle sized from the expected peak number of connected clients (docs/deployment.md).

/**
 * The assumptions of the throttle formula. API Gateway counts every client message against the stage throttle
 * (heartbeats, updates, `$connect`); a heartbeat it throttles never reaches the sweep's liveness clock, so a
 * healthy socket times out: the steady load must fit with room to spare.
 */
export const WEBSOCKET_THROTTLE_MODEL = {
  /** `update-presence` messages per connection per second: one a minute (twice the cost model's every 2 minutes). */
  updatesPerConnectionPerSecond: 1 / 60,
  /** Factor over the steady load: uneven heartbeat phases, users above the average, growth between deploys. */
  headroom: 2,
  /** Messages a reconnecting client sends in its first seconds: `$connect`, its presence (`update-presence`), a heartbeat. */
  messagesPerReconnect: 3,
  /** API Gateway's default account quota of new WebSocket connections per second (a reconnect storm runs at most this fast). */
  newConnectionsPerSecond: 500,
  /** The burst allows this many seconds of the rate at once (heartbeats phase-aligned by a mass reconnect). */
  burstSeconds: 2,
  /** API Gateway's default account-level throttle, shared by every API of the account and region. */
  accountRequestsPerSecond: 10_000,
  /** Computed rates are rounded up to a multiple of this. */
  roundTo: 100,
} as const;

/** A stage's steady-state limit and burst, in requests per second. */
export interface ThrottleSettings {
  readonly rateLimit: number;
  readonly burstLimit: number;
}

/** Messages per second `connections` clients send at steady state: a heartbeat every `heartbeatSeconds`, plus updates. */
export function webSocketSteadyLoad(connections: number, heartbeatSeconds: number): number {
  return connections * (1 / heartbeatSeconds + WEBSOCKET_THROTTLE_MODEL.updatesPerConnectionPerSecond);
}

/**
 * The default route throttle of the WebSocket stage for `connections` clients at peak:
 *
 *   rate  = roundUp(headroom × connections × (1 / heartbeatSeconds + updatesPerSecond)
 *                   + messagesPerReconnect × newConnectionsPerSecond, 100)
 *   burst = burstSeconds × rate
 *
 * e.g. 20,000 clients beating every 20 s: 2 × 20,000 × (0.05 + 0.0167) + 3 × 500 = 4,167 → 4,200/s, burst 8,400.
 */
export function webSocketThrottle(connections: number, heartbeatSeconds: number): ThrottleSettings {
  const model = WEBSOCKET_THROTTLE_MODEL;
  const needed =
    model.headroom * webSocketSteadyLoad(connections, heartbeatSeconds) +
    model.messagesPerReconnect * model.newConnectionsPerSecond;
  const rateLimit = Math.ceil(needed / model.roundTo) * model.roundTo;
  return { rateLimit, burstLimit: model.burstSeconds * rateLimit };
}
