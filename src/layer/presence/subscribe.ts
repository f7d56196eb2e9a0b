// Use case: a connection chooses what it receives (`detail`: every change, or status changes only) and is told so.
import { ForbiddenError, ValidationError } from '../shared/errors';
import type { Detail } from './model';
import { directMessage } from '../delivery/ports';
import type { PresenceDeps } from './ports';

/** Input of {@link subscribe}. */
export interface SubscribeInput {
  readonly userId: string;
  readonly connectionId: string;
  readonly endpoint: string;
  readonly detail?: Detail;
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

/** Sets the connection's detail in one store round trip and replies `subscribed` to it. */
export async function subscribe(deps: PresenceDeps, input: SubscribeInput): Promise<Subscribed> {
  if (input.groups && input.groups.length > input.maxGroups) {
    throw new ValidationError(`groups must list at most ${input.maxGroups} groups`);
  }
  // Group memberships are not read yet (contract, "Groups"): no caller is a member of any group.
  if (input.groups && input.groups.length > 0) throw new ForbiddenError(`Not a member of group "${input.groups[0]}"`);
  const detail = input.detail ?? 'full';
  await deps.store.subscribe({
    userId: input.userId,
    connectionId: input.connectionId,
    now: deps.clock(),
    detail,
    ...(input.authorizedUntil ? { authorizedUntil: input.authorizedUntil } : {}),
  });
  const reply: Subscribed = { type: 'subscribed', detail, groups: [] };
  await deps.deliverer.sendTo(input.endpoint, directMessage(input.userId, input.connectionId, reply));
  return reply;
}
