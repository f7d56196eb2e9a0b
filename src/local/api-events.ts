// Builds the events API Gateway sends: REQUEST authorizer, WebSocket $connect / message / $disconnect, REST proxy (v1).
import type { IncomingMessage } from 'node:http';
import type { GatewayIdentity } from './gateway-identity';
import { newRequestId, newShortId, requestTime } from './gateway-identity';
import { headerMaps, identityOf, queryMaps } from './request-parts';

/** The authorizer context API Gateway passes on: the authorizer's `context`, `principalId`, `integrationLatency`. */
export type AuthorizerContext = Record<string, string | number | boolean>;

/** What a WebSocket connection keeps for building its later events. */
export interface ConnectionEventBase {
  readonly connectionId: string;
  readonly connectedAt: number;
  readonly identity: { sourceIp: string; userAgent: string };
  readonly authorizer: AuthorizerContext | undefined;
}

function webSocketContext(
  gw: GatewayIdentity,
  base: ConnectionEventBase,
  routeKey: string,
  eventType: 'CONNECT' | 'MESSAGE' | 'DISCONNECT',
  now: number,
): Record<string, unknown> {
  const requestId = newShortId();
  return {
    routeKey,
    eventType,
    extendedRequestId: requestId,
    requestTime: requestTime(now),
    messageDirection: 'IN',
    stage: gw.stage,
    connectedAt: base.connectedAt,
    requestTimeEpoch: now,
    identity: base.identity,
    requestId,
    domainName: gw.domainName,
    connectionId: base.connectionId,
    apiId: gw.webSocketApiId,
  };
}

/** The REQUEST authorizer event of a WebSocket `$connect`. */
export function webSocketAuthorizerEvent(
  gw: GatewayIdentity,
  base: ConnectionEventBase,
  req: IncomingMessage,
  url: URL,
) {
  const headers = headerMaps(req);
  const query = queryMaps(url);
  return {
    type: 'REQUEST',
    methodArn: `arn:aws:execute-api:${gw.region}:${gw.accountId}:${gw.webSocketApiId}/${gw.stage}/$connect`,
    headers: headers.single,
    multiValueHeaders: headers.multi,
    queryStringParameters: query.single,
    multiValueQueryStringParameters: query.multi,
    stageVariables: {},
    requestContext: webSocketContext(gw, base, '$connect', 'CONNECT', Date.now()),
  };
}

/** The `$connect` event: headers, query string, and the authorizer context. */
export function connectEvent(gw: GatewayIdentity, base: ConnectionEventBase, req: IncomingMessage, url: URL) {
  const headers = headerMaps(req);
  const query = queryMaps(url);
  return {
    headers: headers.single,
    multiValueHeaders: headers.multi,
    queryStringParameters: query.single,
    multiValueQueryStringParameters: query.multi,
    requestContext: { ...webSocketContext(gw, base, '$connect', 'CONNECT', Date.now()), authorizer: base.authorizer },
    isBase64Encoded: false,
  };
}

/** A message event for `routeKey`, with `messageId` and the body (base64 for binary frames). */
export function messageEvent(
  gw: GatewayIdentity,
  base: ConnectionEventBase,
  routeKey: string,
  body: string,
  isBase64Encoded: boolean,
) {
  return {
    requestContext: {
      ...webSocketContext(gw, base, routeKey, 'MESSAGE', Date.now()),
      messageId: newShortId(),
      authorizer: base.authorizer,
    },
    body,
    isBase64Encoded,
  };
}

/** The `$disconnect` event, with the close code and reason. */
export function disconnectEvent(gw: GatewayIdentity, base: ConnectionEventBase, statusCode: number, reason: string) {
  const host = gw.domainName;
  return {
    headers: { Host: host, 'x-api-key': '', 'X-Forwarded-For': '', 'x-restapi': '' },
    multiValueHeaders: { Host: [host], 'x-api-key': [''], 'X-Forwarded-For': [''], 'x-restapi': [''] },
    requestContext: {
      ...webSocketContext(gw, base, '$disconnect', 'DISCONNECT', Date.now()),
      authorizer: base.authorizer,
      disconnectStatusCode: statusCode,
      disconnectReason: reason,
    },
    isBase64Encoded: false,
  };
}

/** The parts of a matched REST request that go into its events. */
export interface RestRequest {
  readonly req: IncomingMessage;
  readonly url: URL;
  /** API Gateway resource path, e.g. `/presence/{userId}`. */
  readonly resource: string;
  readonly pathParameters: Record<string, string> | null;
  readonly body: string | null;
}

function restContext(gw: GatewayIdentity, r: RestRequest, now: number) {
  return {
    resourceId: 'local00',
    resourcePath: r.resource,
    httpMethod: r.req.method ?? 'GET',
    extendedRequestId: newShortId(),
    requestTime: requestTime(now),
    path: `/${gw.stage}${r.url.pathname}`,
    accountId: gw.accountId,
    protocol: `HTTP/${r.req.httpVersion}`,
    stage: gw.stage,
    domainPrefix: gw.restApiId,
    requestTimeEpoch: now,
    requestId: newRequestId(),
    identity: {
      cognitoIdentityPoolId: null,
      accountId: null,
      cognitoIdentityId: null,
      caller: null,
      ...identityOf(r.req),
      principalOrgId: null,
      accessKey: null,
      cognitoAuthenticationType: null,
      cognitoAuthenticationProvider: null,
      userArn: null,
      user: null,
    },
    domainName: gw.domainName,
    apiId: gw.restApiId,
  };
}

/** The REQUEST authorizer event of a REST call. */
export function restAuthorizerEvent(gw: GatewayIdentity, r: RestRequest) {
  const headers = headerMaps(r.req);
  const query = queryMaps(r.url);
  const method = r.req.method ?? 'GET';
  return {
    type: 'REQUEST',
    methodArn: `arn:aws:execute-api:${gw.region}:${gw.accountId}:${gw.restApiId}/${gw.stage}/${method}${r.url.pathname}`,
    resource: r.resource,
    path: r.url.pathname,
    httpMethod: method,
    headers: headers.single,
    multiValueHeaders: headers.multi,
    queryStringParameters: query.single,
    multiValueQueryStringParameters: query.multi,
    pathParameters: r.pathParameters ?? {},
    stageVariables: {},
    requestContext: restContext(gw, r, Date.now()),
  };
}

/** The Lambda proxy event (v1 payload) of a REST call, with the authorizer context. */
export function restProxyEvent(gw: GatewayIdentity, r: RestRequest, authorizer: AuthorizerContext | undefined) {
  const headers = headerMaps(r.req);
  const query = queryMaps(r.url);
  return {
    resource: r.resource,
    path: r.url.pathname,
    httpMethod: r.req.method ?? 'GET',
    headers: headers.single,
    multiValueHeaders: headers.multi,
    queryStringParameters: query.single,
    multiValueQueryStringParameters: query.multi,
    pathParameters: r.pathParameters,
    stageVariables: null,
    requestContext: { ...restContext(gw, r, Date.now()), ...(authorizer ? { authorizer } : {}) },
    body: r.body,
    isBase64Encoded: false,
  };
}
