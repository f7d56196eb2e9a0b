// Local-only group data: GET /dev/groups lists groups, POST /dev/groups creates or replaces one (and drops the caches
// that hold it, so the change shows at once instead of within FRIEND_CACHE_SECONDS).
import type { Pool } from 'pg';
import type { Cluster, Redis } from 'ioredis';
import { MAX_GROUP_ID_LENGTH, RedisKeys } from '@presence/layer';

/** A group as the dev routes show it. */
export interface DevGroup {
  readonly groupId: string;
  readonly name: string;
  readonly members: string[];
}

/** Bad input to a dev group route: answered 400 with this message. */
export class DevGroupInputError extends Error {}

const hasControl = (value: string) => [...value].some((c) => c.charCodeAt(0) < 0x20);
const isId = (value: unknown, max: number): value is string =>
  typeof value === 'string' && value.length >= 1 && value.length <= max && !hasControl(value);

/** Validates the body of `POST /dev/groups {"groupId","name","members":[...]}`. */
export function parseDevGroup(body: Record<string, unknown>): DevGroup {
  if (!isId(body.groupId, MAX_GROUP_ID_LENGTH))
    throw new DevGroupInputError(`groupId must be a string of 1 to ${MAX_GROUP_ID_LENGTH} characters`);
  if (!isId(body.name, 200)) throw new DevGroupInputError('name must be a string of 1 to 200 characters');
  const members = body.members ?? [];
  if (!Array.isArray(members) || !members.every((m) => isId(m, 128)))
    throw new DevGroupInputError('members must be an array of user ids (1 to 128 characters)');
  return { groupId: body.groupId, name: body.name, members: [...new Set(members as string[])] };
}

/** The groups (at most 500) with their members in joining order. */
export async function listDevGroups(pool: Pool): Promise<DevGroup[]> {
  const { rows } = await pool.query<{ group_id: string; name: string; members: string[] }>(
    `SELECT g.group_id, g.name,
            COALESCE(ARRAY(SELECT m.user_id FROM group_member_table m WHERE m.group_id = g.group_id
                            ORDER BY m.joined_at, m.user_id), '{}') AS members
       FROM group_table g ORDER BY g.group_id LIMIT 500`,
  );
  return rows.map((r) => ({ groupId: r.group_id, name: r.name, members: r.members }));
}

/**
 * Creates or replaces a group in one transaction: its name and exactly these members (members who stay keep their
 * joining time; new ones join in the order given). Then drops the cached group and the cached contexts of everyone
 * who was or is a member.
 */
export async function saveDevGroup(
  deps: { readonly pool: Pool; readonly redis: Redis | Cluster; readonly keyPrefix: string },
  group: DevGroup,
): Promise<void> {
  const client = await deps.pool.connect();
  let before: string[] = [];
  try {
    await client.query('BEGIN');
    await client.query(
      `INSERT INTO group_table (group_id, name) VALUES ($1, $2)
       ON CONFLICT (group_id) DO UPDATE SET name = EXCLUDED.name`,
      [group.groupId, group.name],
    );
    before = (
      await client.query<{ user_id: string }>(
        'DELETE FROM group_member_table WHERE group_id = $1 AND NOT (user_id = ANY($2)) RETURNING user_id',
        [group.groupId, group.members],
      )
    ).rows.map((r) => r.user_id);
    await client.query(
      `INSERT INTO group_member_table (group_id, user_id, joined_at)
       SELECT $1, m.user_id, now() + m.n * interval '1 millisecond' FROM unnest($2::text[]) WITH ORDINALITY AS m(user_id, n)
       ON CONFLICT (group_id, user_id) DO NOTHING`,
      [group.groupId, group.members],
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
  const keys = new RedisKeys(deps.keyPrefix);
  await Promise.all(
    [keys.group(group.groupId), ...[...before, ...group.members].map((id) => keys.context(id))].map((key) =>
      deps.redis.del(key).catch(() => 0),
    ),
  );
}
