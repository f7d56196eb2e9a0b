// Lambda REQUEST authorizer for WebSocket $connect and every REST route: verifies the JWT, returns the user id.
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { extractToken, getVerifier, logger } from '@presence/layer';

/** A policy allowing the whole stage, so a cached REST decision serves every route of the API. */
function allow(
  userId: string,
  methodArn: string,
  context: { exp: number; groups: string },
): APIGatewayAuthorizerResult {
  const [arn, stage] = methodArn.split('/');
  return {
    principalId: userId,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: stage ? `${arn}/${stage}/*` : methodArn }],
    },
    // API Gateway passes this to every later message of a WebSocket connection: exp bounds its authorization.
    context: { userId, exp: context.exp, groups: context.groups },
  };
}

/** Throwing `Unauthorized` makes API Gateway answer 401 (a Deny policy would be 403). */
export const handler = async (event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
  const token = extractToken(event);
  if (!token) throw new Error('Unauthorized');
  try {
    const claims = await getVerifier().verifyClaims(token);
    // A JSON array: group names may contain commas, and a joined list could be split into a group nobody has.
    return allow(claims.userId, event.methodArn, { exp: claims.expiresAt, groups: JSON.stringify(claims.groups) });
  } catch (error) {
    logger.info('token rejected', { reason: (error as Error).name });
    throw new Error('Unauthorized');
  }
};
