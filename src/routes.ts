// The one route table: read by the CDK stack (lib/) and by the local gateway (src/local/), so they cannot drift.

/** Every Lambda function of the service; each lives in `src/functions/<name>/handler.ts` and exports `handler`. */
export const FUNCTION_NAMES = [
  'authorizer',
  'connect',
  'heartbeat',
  'update-presence',
  'close',
  'get-presence',
  'get-user-presence',
  'get-group-presence',
  'timeout',
  'subscribe',
  'worker',
  'get-usage',
] as const;

/** A function name from {@link FUNCTION_NAMES}. */
export type FunctionName = (typeof FUNCTION_NAMES)[number];

/** A WebSocket API route: its route key and the function that handles it. */
export interface WebSocketRoute {
  readonly routeKey: string;
  readonly functionName: FunctionName;
  /** Whether the `authorizer` function guards this route (only `$connect` can carry one). */
  readonly authorized: boolean;
}

/** A REST API route (Lambda proxy integration, v1 payload). */
export interface RestRoute {
  readonly method: 'GET';
  /** API Gateway resource path, with `{param}` placeholders. */
  readonly path: string;
  readonly functionName: FunctionName;
  readonly authorized: boolean;
}

/** WebSocket route selection expression. */
export const ROUTE_SELECTION_EXPRESSION = '$request.body.action';

/** The WebSocket routes. `$default` (unknown actions, non-JSON bodies) goes to `heartbeat`, which answers with an error. */
export const WEBSOCKET_ROUTES: readonly WebSocketRoute[] = [
  { routeKey: '$connect', functionName: 'connect', authorized: true },
  { routeKey: '$disconnect', functionName: 'close', authorized: false },
  { routeKey: 'heartbeat', functionName: 'heartbeat', authorized: false },
  { routeKey: 'update-presence', functionName: 'update-presence', authorized: false },
  { routeKey: 'subscribe', functionName: 'subscribe', authorized: false },
  { routeKey: '$default', functionName: 'heartbeat', authorized: false },
];

/** The REST routes. */
export const REST_ROUTES: readonly RestRoute[] = [
  { method: 'GET', path: '/presence', functionName: 'get-presence', authorized: true },
  { method: 'GET', path: '/presence/{userId}', functionName: 'get-user-presence', authorized: true },
  { method: 'GET', path: '/usage', functionName: 'get-usage', authorized: true },
  { method: 'GET', path: '/groups/{groupId}/presence', functionName: 'get-group-presence', authorized: true },
];

/** The function the schedule (EventBridge in AWS, a timer locally) invokes. */
export const SWEEP_FUNCTION: FunctionName = 'timeout';

/** The queue-driven worker (SQS in AWS, an in-process queue locally): sweeps and delivers the shards it is given. */
export const WORKER_FUNCTION: FunctionName = 'worker';

/** The function used as the REQUEST authorizer on `$connect` and every REST route. */
export const AUTHORIZER_FUNCTION: FunctionName = 'authorizer';
