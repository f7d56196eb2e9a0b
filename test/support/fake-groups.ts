// In-memory fakes of the group ports (GroupStore, GroupDirectory) for unit tests of use cases and the delivery module.
import type { Group, UserInfo } from '../../src/layer/presence/model';
import type { GroupDeps, GroupDirectory, GroupStore, GroupSubscriber } from '../../src/layer/presence/ports';

/** A group for the fakes: id, name and member ids (info derived from the ids). */
export function group(groupId: string, memberIds: string[], name = `Group ${groupId}`): Group {
  const info = new Map<string, UserInfo>(
    memberIds.map((id) => [id, { user_id: id, first_name: id, last_name: null, profile_image_extension: null }]),
  );
  return { groupId, name, memberIds, info };
}

/** Fake group ports over plain maps; `queries` counts directory loads, `cache` and `subscribers` are inspectable. */
export function fakeGroups(source: Group[] = []) {
  const directoryGroups = new Map(source.map((g) => [g.groupId, g]));
  const cache = new Map<string, Group | 'unknown'>();
  const subscribers = new Map<string, Map<string, GroupSubscriber>>();
  const counters = { queries: 0, probes: 0 };
  const directory: GroupDirectory = {
    loadGroups: async (ids) => {
      counters.queries += 1;
      return new Map(ids.flatMap((id) => (directoryGroups.has(id) ? [[id, directoryGroups.get(id) as Group]] : [])));
    },
  };
  const store: GroupStore = {
    readGroups: async (ids) => new Map(ids.flatMap((id) => (cache.has(id) ? [[id, cache.get(id)!]] : []))),
    readGroupAndFriends: async (groupId) => ({ group: cache.get(groupId), friendIds: null }),
    saveGroups: async (groups, unknown) => {
      for (const g of groups) cache.set(g.groupId, g);
      for (const id of unknown) cache.set(id, 'unknown');
    },
    index: async (s, add, remove) => {
      for (const g of add) {
        const subs = subscribers.get(g) ?? new Map<string, GroupSubscriber>();
        subs.set(s.connectionId, s);
        subscribers.set(g, subs);
      }
      for (const g of remove) subscribers.get(g)?.delete(s.connectionId);
    },
    forget: async (entries) => {
      for (const e of entries) subscribers.get(e.groupId)?.delete(e.connectionId);
    },
    subscribersOf: async (probes) =>
      probes.map(({ groupId, userId }) => {
        counters.probes += 1;
        const subs = subscribers.get(groupId);
        if (!subs || subs.size === 0) return [];
        const g = cache.get(groupId);
        if (g === undefined) return 'need-group' as const;
        if (g === 'unknown' || !g.memberIds.includes(userId)) return [];
        return [...subs.values()].filter((s) => g.memberIds.includes(s.ownerId));
      }),
  };
  const deps: GroupDeps = { store, directory };
  return { deps, cache, subscribers, counters, directoryGroups };
}
