// Runs the REQUEST authorizer as API Gateway does: `Unauthorized` -> 401, a policy not allowing the ARN -> 403.
import type { AuthorizerContext } from './api-events';
import type { LocalHandler } from './handler-registry';
import { lambdaContext } from './handler-registry';

/** The authorizer's answer: the context to pass on, or the status API Gateway would answer with. */
export type AuthorizerOutcome =
  | { readonly allowed: true; readonly context: AuthorizerContext; readonly userId: string }
  | { readonly allowed: false; readonly statusCode: 401 | 403 | 500; readonly message: string };

interface PolicyResult {
  principalId?: string;
  policyDocument?: { Statement?: { Effect?: string; Action?: string | string[]; Resource?: string | string[] }[] };
  context?: Record<string, string | number | boolean | null | undefined>;
}

/** Whether an IAM resource pattern (with `*` and `?` wildcards) matches `arn`. */
function matches(pattern: string, arn: string): boolean {
  const regex = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  return regex.test(arn);
}

function allows(result: PolicyResult, methodArn: string): boolean {
  const statements = result.policyDocument?.Statement ?? [];
  const hits = statements.filter((s) => {
    const actions = Array.isArray(s.Action) ? s.Action : [s.Action ?? ''];
    const resources = Array.isArray(s.Resource) ? s.Resource : [s.Resource ?? ''];
    return (
      actions.some((a) => a === 'execute-api:Invoke' || a === 'execute-api:*' || a === '*') &&
      resources.some((r) => matches(r, methodArn))
    );
  });
  return hits.some((s) => s.Effect === 'Allow') && !hits.some((s) => s.Effect === 'Deny');
}

/** Invokes `authorizer` with `event` (which carries `methodArn`) and maps the result like API Gateway. */
export async function invokeAuthorizer(
  authorizer: LocalHandler,
  event: { methodArn: string; requestContext: { requestId?: unknown } },
): Promise<AuthorizerOutcome> {
  const started = Date.now();
  let result: PolicyResult;
  try {
    result = (await authorizer(
      event,
      lambdaContext('authorizer', String(event.requestContext.requestId), 10_000),
    )) as PolicyResult;
  } catch (error) {
    if (error instanceof Error && error.message === 'Unauthorized')
      return { allowed: false, statusCode: 401, message: 'Unauthorized' };
    return { allowed: false, statusCode: 500, message: 'Internal server error' };
  }
  if (!result?.principalId || !allows(result, event.methodArn)) {
    return { allowed: false, statusCode: 403, message: 'User is not authorized to access this resource' };
  }
  // Keys the authorizer chose: defined as own properties (a `__proto__` key stays a key).
  const context: AuthorizerContext = Object.fromEntries(
    Object.entries(result.context ?? {}).filter(
      (entry): entry is [string, string | number | boolean] => entry[1] !== null && entry[1] !== undefined,
    ),
  );
  context.principalId = result.principalId;
  context.integrationLatency = Date.now() - started;
  const userId = typeof context.userId === 'string' ? context.userId : result.principalId;
  return { allowed: true, context, userId };
}
