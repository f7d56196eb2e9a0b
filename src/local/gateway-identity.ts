// The identity of the local APIs as events show it: api ids, stage, domain, account, region, and id generators.
import { randomBytes, randomUUID } from 'node:crypto';
import { LOCAL_STAGE } from './local-config';

/** What API Gateway puts in every event about itself. */
export interface GatewayIdentity {
  readonly webSocketApiId: string;
  readonly restApiId: string;
  readonly stage: string;
  /** `127.0.0.1:{port}`. */
  readonly domainName: string;
  readonly accountId: string;
  readonly region: string;
}

/** The identity of the local stack listening on `port`. */
export function localIdentity(port: number): GatewayIdentity {
  return {
    webSocketApiId: 'localws000',
    restApiId: 'localrest0',
    stage: LOCAL_STAGE,
    domainName: `127.0.0.1:${port}`,
    accountId: '000000000000',
    region: process.env.AWS_REGION ?? 'us-east-1',
  };
}

/** A connection id shaped like API Gateway's (16 characters, base64). */
export function newConnectionId(): string {
  return randomBytes(11).toString('base64');
}

/** An id shaped like API Gateway's message and extended request ids. */
export function newShortId(): string {
  return randomBytes(11).toString('base64');
}

/** A request id (REST APIs use UUIDs). */
export function newRequestId(): string {
  return randomUUID();
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `requestTime` as API Gateway formats it: `24/Nov/2026:01:00:00 +0000`. */
export function requestTime(epochMs: number): string {
  const d = new Date(epochMs);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(
    d.getUTCMinutes(),
  )}:${pad(d.getUTCSeconds())} +0000`;
}
