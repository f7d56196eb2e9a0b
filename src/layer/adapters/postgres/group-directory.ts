// GroupDirectory on Postgres: groups with their first GROUP_MAX_MEMBERS members and their user info, in one query.
import type { Pool } from 'pg';
import type { Group, UserInfo } from '../../presence/model';
import type { GroupDirectory } from '../../presence/ports';
import { queryRows } from './pool';

// One statement with bind parameters, no session state: works through PgBouncer / RDS Proxy in transaction mode.
const GROUPS_SQL = `
SELECT g.group_id, g.name,
       COALESCE((
         SELECT json_agg(json_build_object('user_id', m.user_id, 'first_name', u.first_name,
                                           'last_name', u.last_name,
                                           'profile_image_extension', u.profile_image_extension)
                         ORDER BY m.joined_at, m.user_id)
         FROM (SELECT user_id, joined_at FROM group_member_table
               WHERE group_id = g.group_id ORDER BY joined_at, user_id LIMIT $2) m
         LEFT JOIN user_table u ON u.user_id = m.user_id
       ), '[]'::json) AS members
FROM group_table g
WHERE g.group_id = ANY($1::text[])`;

interface GroupRow {
  group_id: string;
  name: string;
  members: UserInfo[];
}

/** {@link GroupDirectory} on a `pg` pool; `queries` counts queries (tests and benchmarks read it). */
export class PostgresGroupDirectory implements GroupDirectory {
  /** Queries made so far. */
  queries = 0;

  constructor(
    private readonly pool: () => Promise<Pool>,
    private readonly timeoutMs: number,
    /** GROUP_MAX_MEMBERS: members served per group (the first ones to join). */
    private readonly maxMembers: number,
  ) {}

  async loadGroups(groupIds: readonly string[]): Promise<Map<string, Group>> {
    const result = new Map<string, Group>();
    if (groupIds.length === 0) return result;
    this.queries += 1;
    const rows = await queryRows<GroupRow>(this.pool, this.timeoutMs, GROUPS_SQL, [groupIds, this.maxMembers]);
    for (const row of rows) {
      result.set(row.group_id, {
        groupId: row.group_id,
        name: row.name,
        memberIds: row.members.map((m) => m.user_id),
        // A Map: ids such as `__proto__` are ordinary keys.
        info: new Map(row.members.map((m) => [m.user_id, m])),
      });
    }
    return result;
  }
}
