// Use case: a connection chooses what it receives (`detail`: every change, or status changes only).
import { ForbiddenError } from '../shared/errors';
import type { Detail } from './model';
import type { PresenceDeps } from './ports';

/** Input of {@link subscribe}. */
export interface SubscribeInput {
  readonly userId: string;
  readonly connectionId: string;
  readonly detail?: Detail;
  readonly groups?: readonly string[];
}

/** The reply the connection gets. */
export interface Subscribed {
  readonly type: 'subscribed';
  readonly detail: Detail;
  readonly groups: readonly string[];
}

/** Sets the connection's detail in one store round trip; an unknown connection gets `resync`-free defaults. */
export async function subscribe(deps: PresenceDeps, input: SubscribeInput): Promise<Subscribed> {
  const detail = input.detail ?? 'full';
  // Group memberships are not read yet (contract, "Groups"): no caller is a member of any group.
  if (input.groups && input.groups.length > 0) throw new ForbiddenError(`Not a member of group "${input.groups[0]}"`);
  await deps.store.subscribe({ userId: input.userId, connectionId: input.connectionId, now: deps.clock(), detail });
  return { type: 'subscribed', detail, groups: [] };
}
