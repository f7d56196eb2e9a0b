// Loads the Lambda handlers named by the route table from src/functions/<name>/handler.ts, once each.
import { join } from 'node:path';
import type { FunctionName } from '../routes';
import { FUNCTION_NAMES } from '../routes';

/** A Lambda handler as the local gateway calls it: the event, and a minimal context. */
export type LocalHandler = (event: unknown, context: LocalLambdaContext) => Promise<unknown>;

/** The parts of the Lambda context the handlers may read. */
export interface LocalLambdaContext {
  readonly functionName: string;
  readonly awsRequestId: string;
  getRemainingTimeInMillis(): number;
}

/** Every handler of the service, by function name. */
export type HandlerRegistry = Readonly<Record<FunctionName, LocalHandler>>;

/** Imports every function's `handler`; a missing export fails at start, naming the function. */
export async function loadHandlers(): Promise<HandlerRegistry> {
  const entries = await Promise.all(
    FUNCTION_NAMES.map(async (name) => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- names come from the route table at run time
      const module = require(join(__dirname, '..', 'functions', name, 'handler')) as { handler?: unknown };
      if (typeof module.handler !== 'function')
        throw new Error(`src/functions/${name}/handler.ts does not export handler`);
      return [name, module.handler as LocalHandler] as const;
    }),
  );
  return Object.freeze(Object.fromEntries(entries) as Record<FunctionName, LocalHandler>);
}

/** A Lambda context for one invocation with the given timeout. */
export function lambdaContext(functionName: string, requestId: string, timeoutMs: number): LocalLambdaContext {
  const deadline = Date.now() + timeoutMs;
  return { functionName, awsRequestId: requestId, getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()) };
}
