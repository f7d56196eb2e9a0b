// Use cases of groups (party presence): the REST snapshot of a group, and the cached group lookups subscribe needs.
import { ForbiddenError } from '../shared/errors';
import type { Group, Presence, PresenceSnapshot, UserContext, UserInfo } from './model';
import type { PresenceDeps } from './ports';
import { toPresence } from './views';

/** Body of `GET /groups/{groupId}/presence`. */
export interface GroupPresence {
  readonly groupId: string;
  readonly name: string;
  /** Members whose status, as the caller sees it, is not offline. */
  readonly online: number;
  readonly members: Presence[];
  readonly userInfoMap: Record<string, UserInfo>;
}

/** Longest group id accepted in a REST path or a `subscribe` message. */
export const MAX_GROUP_ID_LENGTH = 128;

/** The answer to anyone who may not read a group (a non-member, or a group that does not exist). */
export const FORBIDDEN_GROUP = 'Forbidden access to group presence';

/**
 * Groups by id from the cache, the missing ones from the directory (one query) and cached again; unknown groups are
 * absent from the answer (and cached as unknown, so asking again does not query Postgres).
 */
export async function loadGroups(deps: PresenceDeps, groupIds: readonly string[]): Promise<Map<string, Group>> {
  const cached = await deps.groups.store.readGroups(groupIds);
  const missing = groupIds.filter((id) => !cached.has(id));
  const result = new Map<string, Group>();
  for (const [id, group] of cached) if (group !== 'unknown') result.set(id, group);
  if (missing.length === 0) return result;
  const loaded = await deps.groups.directory.loadGroups(missing);
  await deps.groups.store.saveGroups(
    [...loaded.values()],
    missing.filter((id) => !loaded.has(id)),
  );
  for (const [id, group] of loaded) result.set(id, group);
  return result;
}

/**
 * A group's members as the caller sees them: friends at full detail, other members at status level (no page, no
 * activity), invisible members offline. Only for members; anyone else, and an unknown group, is
 * {@link ForbiddenError}. With the group and the caller's friend list cached: 2 store round trips and no query.
 */
export async function getGroupPresence(deps: PresenceDeps, callerId: string, groupId: string): Promise<GroupPresence> {
  const cached = await deps.groups.store.readGroupAndFriends(groupId, callerId);
  let group = cached.group;
  const saveGroup: Group[] = [];
  const saveContext: UserContext[] = [];
  let friendIds = cached.friendIds;
  if (group === undefined || friendIds === null) {
    const [groups, contexts] = await Promise.all([
      group === undefined ? deps.groups.directory.loadGroups([groupId]) : undefined,
      friendIds === null ? deps.directory.loadContexts([callerId]) : undefined,
    ]);
    if (groups) {
      group = groups.get(groupId) ?? 'unknown';
      if (group === 'unknown') await deps.groups.store.saveGroups([], [groupId]);
      else saveGroup.push(group);
    }
    const context = contexts?.get(callerId);
    if (context) {
      friendIds = context.friendIds;
      saveContext.push(context);
    }
  }
  if (group === 'unknown' || group === undefined || !group.memberIds.includes(callerId)) {
    throw new ForbiddenError(FORBIDDEN_GROUP);
  }
  return presenceOf(deps, callerId, group, new Set(friendIds ?? []), saveGroup, saveContext);
}

async function presenceOf(
  deps: PresenceDeps,
  callerId: string,
  group: Group,
  friends: ReadonlySet<string>,
  saveGroup: readonly Group[],
  saveContext: readonly UserContext[],
): Promise<GroupPresence> {
  const [snapshots] = await Promise.all([
    deps.store.readMany(group.memberIds, saveContext) as Promise<Map<string, PresenceSnapshot>>,
    saveGroup.length > 0 ? deps.groups.store.saveGroups(saveGroup, []) : undefined,
  ]);
  const members = group.memberIds.map((id) =>
    toPresence(id, snapshots.get(id), id === callerId || friends.has(id) ? 'friend' : 'member'),
  );
  // Object.fromEntries defines own properties: ids such as `__proto__` are ordinary keys.
  const userInfoMap: Record<string, UserInfo> = Object.fromEntries(
    group.memberIds.map((id) => [
      id,
      group.info.get(id) ?? { user_id: id, first_name: null, last_name: null, profile_image_extension: null },
    ]),
  );
  return {
    groupId: group.groupId,
    name: group.name,
    online: members.filter((m) => m.status !== 'offline').length,
    members,
    userInfoMap,
  };
}
