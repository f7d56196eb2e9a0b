// FriendDirectory on Postgres: settings, accepted friends, their user info and groups for many users in one query.
import type { Pool } from 'pg';
import type { PrivacySettings, UserContext, UserInfo } from '../../presence/model';
import type { FriendDirectory } from '../../presence/ports';
import { SHARE_NOTHING, normalizeHostEntries } from '../../presence/privacy';
import { queryRows } from './pool';

const CONTEXTS_SQL = `
SELECT o.owner,
       u.share_mode, u.domain_allow_array, u.domain_deny_array,
       u.first_name, u.last_name, u.profile_image_extension,
       (u.user_id IS NOT NULL) AS known,
       COALESCE((
         -- One index lookup per friend (a scalar subquery cannot become a hash join over all of user_table,
         -- which the planner picks when popular users skew its row estimates).
         SELECT json_agg((SELECT json_build_object('user_id', fu.user_id, 'first_name', fu.first_name,
                                                   'last_name', fu.last_name,
                                                   'profile_image_extension', fu.profile_image_extension)
                          FROM user_table fu WHERE fu.user_id = f.friend_id)
                         ORDER BY f.friend_id)
         FROM (SELECT user_id2 AS friend_id FROM friendship_table WHERE user_id1 = o.owner AND accepted_at IS NOT NULL
               UNION
               SELECT user_id1 FROM friendship_table WHERE user_id2 = o.owner AND accepted_at IS NOT NULL) f
       ), '[]'::json) AS friends,
       COALESCE((SELECT json_agg(gm.group_id ORDER BY gm.group_id) FROM group_member_table gm
                 WHERE gm.user_id = o.owner), '[]'::json) AS groups
FROM unnest($1::text[]) AS o(owner)
LEFT JOIN user_table u ON u.user_id = o.owner`;

interface ContextRow {
  owner: string;
  share_mode: string | null;
  domain_allow_array: string[] | null;
  domain_deny_array: string[] | null;
  first_name: string | null;
  last_name: string | null;
  profile_image_extension: string | null;
  known: boolean;
  /** Null entries only if a friendship points at a missing user (the foreign keys prevent it). */
  friends: (UserInfo | null)[];
  /** Groups the user is a member of (group_member_table). */
  groups: string[];
}

/** The settings as the store caches them: the list of the mode, normalized to hosts (invalid entries dropped, deduped). */
function settingsOf(row: ContextRow): PrivacySettings {
  if (!row.known) return SHARE_NOTHING;
  const shareMode = row.share_mode === 'default_all' ? 'default_all' : 'default_none';
  const list = (shareMode === 'default_all' ? row.domain_deny_array : row.domain_allow_array) ?? [];
  return { shareMode, domains: normalizeHostEntries(list.filter((entry) => typeof entry === 'string')) };
}

/** {@link FriendDirectory} on a `pg` pool; `queries` counts queries (tests and benchmarks read it). */
export class PostgresFriendDirectory implements FriendDirectory {
  /** Queries made so far. */
  queries = 0;

  constructor(
    private readonly pool: () => Promise<Pool>,
    private readonly timeoutMs: number,
  ) {}

  async loadContexts(userIds: readonly string[]): Promise<Map<string, UserContext>> {
    const result = new Map<string, UserContext>();
    if (userIds.length === 0) return result;
    this.queries += 1;
    const rows = await queryRows<ContextRow>(this.pool, this.timeoutMs, CONTEXTS_SQL, [userIds]);
    for (const row of rows) {
      // A Map: ids such as `__proto__` or `constructor` are ordinary keys.
      const info = new Map<string, UserInfo>();
      if (row.known) {
        info.set(row.owner, {
          user_id: row.owner,
          first_name: row.first_name,
          last_name: row.last_name,
          profile_image_extension: row.profile_image_extension,
        });
      }
      const friends = row.friends.filter((f): f is UserInfo => f !== null);
      for (const friend of friends) info.set(friend.user_id, friend);
      result.set(row.owner, {
        userId: row.owner,
        settings: settingsOf(row),
        friendIds: friends.map((f) => f.user_id),
        info,
        groupIds: row.groups,
      });
    }
    return result;
  }
}
