// Use cases: REST snapshots of the caller's and friends' presence (privacy already applied by the stored views).
import { ForbiddenError } from '../shared/errors';
import type { Presence, PresenceSnapshot, UserContext, UserInfo } from './model';
import type { FriendList, PresenceDeps } from './ports';
import { toPresence } from './views';

/** Body of `GET /presence`. */
export interface PresenceOverview {
  readonly userPresence: Presence;
  readonly presenceArr: Presence[];
  readonly userInfoMap: Record<string, UserInfo>;
}

/**
 * Body of `GET /presence/{userId}`: the Presence plus PageNow's top-level `url` and `title` (the shared page; empty
 * strings when none is shared or the user is offline), which PageNow's web client reads.
 */
export type UserPresence = Presence & { readonly url: string; readonly title: string };

function withPageNowFields(presence: Presence): UserPresence {
  return { ...presence, url: presence.page?.url ?? '', title: presence.page?.title ?? '' };
}

async function selfAndFriends(deps: PresenceDeps, userId: string) {
  const self = await deps.store.readSelf(userId);
  if (self.context) return { snapshot: self.snapshot, friends: self.context as FriendList, save: [] as UserContext[] };
  const context = (await deps.directory.loadContexts([userId])).get(userId);
  if (!context) throw new Error('directory returned no context');
  return { snapshot: self.snapshot, friends: context as FriendList, save: [context] };
}

/** The caller's own presence and every accepted friend's: at most 2 store round trips and 1 query. */
export async function getPresenceOverview(deps: PresenceDeps, userId: string): Promise<PresenceOverview> {
  const { snapshot, friends, save } = await selfAndFriends(deps, userId);
  const snapshots: Map<string, PresenceSnapshot> =
    friends.friendIds.length > 0 || save.length > 0 ? await deps.store.readMany(friends.friendIds, save) : new Map();
  // Object.fromEntries defines own properties: ids such as `__proto__` are ordinary keys.
  const userInfoMap: Record<string, UserInfo> = Object.fromEntries(
    [userId, ...friends.friendIds].flatMap((id) => {
      const info = friends.info.get(id);
      return info ? [[id, info] as const] : [];
    }),
  );
  return {
    userPresence: toPresence(userId, snapshot, 'own'),
    presenceArr: friends.friendIds.map((id) => toPresence(id, snapshots.get(id), 'friend')),
    userInfoMap,
  };
}

/**
 * One user's presence: the caller's own, or an accepted friend's. Anyone else, known or not, is
 * {@link ForbiddenError} so the answer does not reveal whether the user exists.
 */
export async function getUserPresence(deps: PresenceDeps, callerId: string, targetId: string): Promise<UserPresence> {
  const { snapshot, friends, save } = await selfAndFriends(deps, callerId);
  if (targetId === callerId) return withPageNowFields(toPresence(callerId, snapshot, 'own'));
  if (!friends.friendIds.includes(targetId)) throw new ForbiddenError('Forbidden access to user presence');
  const snapshots = await deps.store.readMany([targetId], save);
  return withPageNowFields(toPresence(targetId, snapshots.get(targetId), 'friend'));
}
