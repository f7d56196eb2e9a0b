// Local-only routes: the dev issuer (JWKS, POST /dev/token), demo data (GET/POST /dev/users, POST /dev/friendships,
// GET/POST /dev/groups) and the local event bus (GET /dev/events).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Pool } from 'pg';
import type { Cluster, Redis } from 'ioredis';
import { RedisKeys, corsHeaders } from '@presence/layer';
import type { DevIssuer } from './dev-issuer';
import type { LocalEventBus } from './event-bus';
import { DevGroupInputError, listDevGroups, parseDevGroup, saveDevGroup } from './dev-groups';
import { parseJsonObject, readBody, sendJson } from './http-io';
import { logRequest, since } from './request-log';
import { header } from './request-parts';

/** The dev issuer's path: its `iss` is `http://127.0.0.1:$PORT/dev/issuer`. */
export const DEV_ISSUER_PATH = '/dev/issuer';

/** The JWKS document's path under an issuer (aws-jwt-verify's default). */
export const JWKS_PATH = '/.well-known/jwks.json';

/** Paths the JWKS is served at: under the issuer (the default `JWT_JWKS_URI`), and at the root. */
const JWKS_PATHS = [`${DEV_ISSUER_PATH}${JWKS_PATH}`, JWKS_PATH];

/** What the dev routes need. */
export interface DevRouteDeps {
  readonly issuer: DevIssuer;
  readonly pool: Pool;
  /** For dropping cached friend contexts, so dev data changes show at once. */
  readonly redis: Redis | Cluster;
  readonly keyPrefix: string;
  readonly tokenTtlSeconds: number;
  readonly allowedOrigins: () => readonly string[];
  readonly events: Pick<LocalEventBus, 'events'>;
}

/** A user id the service accepts: 1 to 128 characters, no control characters. */
const isUserId = (value: string): boolean =>
  value.length >= 1 && value.length <= 128 && ![...value].some((c) => c.charCodeAt(0) < 0x20);

/** Whether `pathname` is served by {@link handleDevRequest}. */
export function isDevPath(pathname: string): boolean {
  return JWKS_PATHS.includes(pathname) || pathname.startsWith('/dev/');
}

class BadRequest extends Error {}

function userIdField(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || !isUserId(value))
    throw new BadRequest(`${field} must be a string of 1 to 128 characters`);
  return value;
}

/** Token groups (`cognito:groups`): at most 20 names of 1 to 128 characters. */
function groupList(body: Record<string, unknown>): string[] {
  const value = body.groups ?? [];
  if (
    !Array.isArray(value) ||
    value.length > 20 ||
    !value.every((g) => typeof g === 'string' && g.length >= 1 && g.length <= 128)
  )
    throw new BadRequest('groups must be an array of at most 20 group names (1 to 128 characters each)');
  return [...new Set(value as string[])];
}

function domainList(body: Record<string, unknown>, field: string): string[] {
  const value = body[field] ?? [];
  if (!Array.isArray(value) || !value.every((d) => typeof d === 'string'))
    throw new BadRequest(`${field} must be an array of strings`);
  return value as string[];
}

async function dropContexts(deps: DevRouteDeps, userIds: string[]): Promise<void> {
  const keys = new RedisKeys(deps.keyPrefix);
  await Promise.all(userIds.map((id) => deps.redis.del(keys.context(id)).catch(() => 0)));
}

/** Serves one dev request. */
export async function handleDevRequest(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  deps: DevRouteDeps,
): Promise<void> {
  const started = performance.now();
  const method = req.method ?? 'GET';
  const what = `${method} ${url.pathname}`;
  const cors = corsHeaders(deps.allowedOrigins(), header(req, 'origin'));
  if (Object.keys(cors).length) cors['Access-Control-Allow-Methods'] = 'GET,POST,OPTIONS';
  const reply = (status: number, body: unknown, note?: string) => {
    sendJson(res, status, body, cors);
    logRequest({ kind: 'DEV', what, status, ms: since(started), note });
  };
  try {
    if (method === 'OPTIONS') {
      res.writeHead(204, cors).end();
      return;
    }
    if (JWKS_PATHS.includes(url.pathname) && method === 'GET') return reply(200, deps.issuer.jwks);
    if (url.pathname === '/dev/token' && method === 'POST') {
      const body = parseJsonObject(await readBody(req)) ?? {};
      const userId = userIdField(body, 'userId');
      const expiresIn = body.expiresIn === undefined ? deps.tokenTtlSeconds : Number(body.expiresIn);
      if (!Number.isInteger(expiresIn)) throw new BadRequest('expiresIn must be an integer number of seconds');
      const groups = groupList(body);
      const token = deps.issuer.sign(userId, {
        expiresIn,
        ...(groups.length > 0 ? { extraClaims: { 'cognito:groups': groups } } : {}),
      });
      sendJson(res, 200, { token, userId, groups, expiresAt: Date.now() + expiresIn * 1000 }, cors);
      return logRequest({ kind: 'DEV', what, status: 200, userId, ms: since(started), note: 'token issued' });
    }
    if (url.pathname === '/dev/events' && method === 'GET') return reply(200, { events: deps.events.events() });
    if (url.pathname === '/dev/users' && method === 'GET') {
      const { rows } = await deps.pool.query<{
        user_id: string;
        first_name: string | null;
        last_name: string | null;
        share_mode: string;
        friends: string[];
      }>(
        `SELECT u.user_id, u.first_name, u.last_name, u.share_mode,
                COALESCE(ARRAY(SELECT CASE WHEN f.user_id1 = u.user_id THEN f.user_id2 ELSE f.user_id1 END
                                 FROM friendship_table f
                                WHERE (f.user_id1 = u.user_id OR f.user_id2 = u.user_id) AND f.accepted_at IS NOT NULL
                                ORDER BY 1), '{}') AS friends
           FROM user_table u ORDER BY u.user_id LIMIT 500`,
      );
      return reply(200, {
        users: rows.map((r) => ({
          userId: r.user_id,
          firstName: r.first_name,
          lastName: r.last_name,
          shareMode: r.share_mode,
          friends: r.friends,
        })),
      });
    }
    if (url.pathname === '/dev/users' && method === 'POST') {
      const body = parseJsonObject(await readBody(req)) ?? {};
      const userId = userIdField(body, 'userId');
      const shareMode = body.shareMode ?? 'default_none';
      if (shareMode !== 'default_none' && shareMode !== 'default_all')
        throw new BadRequest('shareMode must be default_none or default_all');
      const firstName = typeof body.firstName === 'string' ? body.firstName : null;
      const lastName = typeof body.lastName === 'string' ? body.lastName : null;
      const allow = domainList(body, 'domainAllow');
      const deny = domainList(body, 'domainDeny');
      await deps.pool.query(
        `INSERT INTO user_table (user_id, first_name, last_name, share_mode, domain_allow_array, domain_deny_array)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (user_id) DO UPDATE SET first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name,
           share_mode = EXCLUDED.share_mode, domain_allow_array = EXCLUDED.domain_allow_array,
           domain_deny_array = EXCLUDED.domain_deny_array`,
        [userId, firstName, lastName, shareMode, allow, deny],
      );
      await dropContexts(deps, [userId]);
      return reply(201, { userId, firstName, lastName, shareMode, domainAllow: allow, domainDeny: deny });
    }
    if (url.pathname === '/dev/friendships' && method === 'POST') {
      const body = parseJsonObject(await readBody(req)) ?? {};
      const userId1 = userIdField(body, 'userId1');
      const userId2 = userIdField(body, 'userId2');
      if (userId1 === userId2) throw new BadRequest('userId1 and userId2 must differ');
      const accepted = body.accepted !== false;
      const { rows } = await deps.pool.query<{ user_id: string }>(
        'SELECT user_id FROM user_table WHERE user_id = ANY($1)',
        [[userId1, userId2]],
      );
      if (rows.length < 2) throw new BadRequest('both users must exist (POST /dev/users first)');
      // One row per pair, in either order: update the existing one, else insert.
      const updated = await deps.pool.query(
        `UPDATE friendship_table SET accepted_at = CASE WHEN $3 THEN COALESCE(accepted_at, now()) ELSE NULL END
          WHERE (user_id1 = $1 AND user_id2 = $2) OR (user_id1 = $2 AND user_id2 = $1)`,
        [userId1, userId2, accepted],
      );
      if (updated.rowCount === 0) {
        await deps.pool.query(
          `INSERT INTO friendship_table (user_id1, user_id2, requested_at, accepted_at)
           VALUES ($1, $2, now(), CASE WHEN $3 THEN now() ELSE NULL END)`,
          [userId1, userId2, accepted],
        );
      }
      await dropContexts(deps, [userId1, userId2]);
      return reply(201, { userId1, userId2, accepted });
    }
    if (url.pathname === '/dev/groups' && method === 'GET')
      return reply(200, { groups: await listDevGroups(deps.pool) });
    if (url.pathname === '/dev/groups' && method === 'POST') {
      const group = parseDevGroup(parseJsonObject(await readBody(req)) ?? {});
      await saveDevGroup(deps, group);
      return reply(201, group);
    }
    reply(404, { message: 'Not Found' });
  } catch (error) {
    if (error instanceof BadRequest || error instanceof DevGroupInputError)
      return reply(400, { message: error.message });
    reply(500, { message: 'Internal server error' }, error instanceof Error ? error.message : String(error));
  }
}
