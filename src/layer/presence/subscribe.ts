// Use case: a connection chooses what it receives (`detail`: every change, or status changes only; `groups` to follow)
// and is told so.
import { ForbiddenError, ValidationError } from '../shared/errors';
import type { Detail } from './model';
import { directMessage } from '../delivery/ports';
import type { PresenceDeps } from './ports';
import { loadGroups } from './groups';

/** Input of {@link subscribe}. */
export interface SubscribeInput {
  readonly userId: string;
  readonly connectionId: string;
  readonly endpoint: string;
  readonly detail?: Detail;
  /** The groups to follow: replaces the previous list; `[]` unsubscribes; absent leaves it as it is. */
  readonly groups?: readonly string[];
  /** GROUPS_PER_CONNECTION. */
  readonly maxGroups: number;
  /** The expiry of a fresh token the message carried (epoch ms). */
  readonly authorizedUntil?: number;
}

/** The reply the connection gets. */
export type Subscribed = {
  readonly type: 'subscribed';
  readonly detail: Detail;
  readonly groups: readonly string[];
};

/**
 * Sets the connection's detail and groups and replies `subscribed` to it. Every group must be one the caller is a
 * member of (checked on the cached group, else one query); otherwise {@link ForbiddenError} and nothing changes. The
 * groups are kept on the connection record and in each group's subscriber index (added to the new groups, removed
 * from the ones left), which the fan-out reads.
 */
export async function subscribe(deps: PresenceDeps, input: SubscribeInput): Promise<Subscribed> {
  const groups = input.groups;
  if (groups && groups.length > input.maxGroups) {
    throw new ValidationError(`groups must list at most ${input.maxGroups} groups`);
  }
  if (groups && groups.length > 0) {
    const found = await loadGroups(deps, groups);
    const refused = groups.find((id) => !found.get(id)?.memberIds.includes(input.userId));
    if (refused !== undefined) throw new ForbiddenError(`Not a member of group "${refused.slice(0, 128)}"`);
  }
  const detail = input.detail ?? 'full';
  const result = await deps.store.subscribe({
    userId: input.userId,
    connectionId: input.connectionId,
    now: deps.clock(),
    detail,
    ...(groups ? { groups } : {}),
    ...(input.authorizedUntil ? { authorizedUntil: input.authorizedUntil } : {}),
  });
  let current: readonly string[] = [];
  if (result.kind === 'ok') {
    current = groups ?? result.previousGroups;
    if (groups) {
      await deps.groups.store.index(
        {
          ownerId: input.userId,
          connectionId: input.connectionId,
          batch: result.batch,
          connectedAt: result.connectedAt,
        },
        groups,
        result.previousGroups.filter((id) => !groups.includes(id)),
      );
    }
  }
  const reply: Subscribed = { type: 'subscribed', detail, groups: current };
  await deps.deliverer.sendTo(input.endpoint, directMessage(input.userId, input.connectionId, reply));
  return reply;
}
