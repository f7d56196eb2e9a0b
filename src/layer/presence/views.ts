// Builds the REST Presence object and the per-audience server message from stored views.
import type { Presence, PresenceSnapshot, View } from './model';
import { presenceTimeoutMessage, updatePresenceMessage } from './messages';

/** Whose eyes: the user themself, or a friend. */
export type Perspective = 'own' | 'friend';

/** The Presence of `userId` as seen from `perspective`; a user never seen is offline with nulls. */
export function toPresence(userId: string, snapshot: PresenceSnapshot | undefined, perspective: Perspective): Presence {
  const view = perspective === 'own' ? snapshot?.ownView : snapshot?.friendView;
  const lastSeen = (perspective === 'own' ? snapshot?.lastSeen : snapshot?.publicLastSeen) ?? null;
  const latestPage = snapshot?.latestPage ?? null;
  if (!view || view.status === 'offline') {
    return { userId, status: 'offline', page: null, latestPage, message: null, lastSeen };
  }
  return {
    userId,
    status: view.status,
    page: view.page,
    latestPage,
    message: view.message === '' ? null : view.message,
    lastSeen,
  };
}

/** The server message announcing `view` to `perspective`. */
export function messageFor(userId: string, view: View, snapshot: PresenceSnapshot, perspective: Perspective) {
  const lastSeen = perspective === 'own' ? snapshot.lastSeen : snapshot.publicLastSeen;
  return view.status === 'offline'
    ? presenceTimeoutMessage(userId, lastSeen)
    : updatePresenceMessage(userId, view, snapshot, lastSeen);
}
