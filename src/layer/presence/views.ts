// Builds the REST Presence object and the per-audience server messages from stored views and pending changes.
import type { ChangeRecord, Presence, PresenceSnapshot, View } from './model';
import { presenceTimeoutMessage, updatePresenceMessage } from './messages';

/** Whose eyes: the user themself, a friend, or a group member who is not a friend (status only, never a page). */
export type Perspective = 'own' | 'friend' | 'member';

/** A view as a group member who is not a friend sees it: no page, no activity. */
function forMember(view: View): View {
  return { ...view, page: { url: '', title: '', domain: '' }, activity: null };
}

/** The Presence of `userId` as seen from `perspective`; a user never seen is offline with nulls. */
export function toPresence(userId: string, snapshot: PresenceSnapshot | undefined, perspective: Perspective): Presence {
  const view = perspective === 'own' ? snapshot?.ownView : snapshot?.friendView;
  const lastSeen = (perspective === 'own' ? snapshot?.lastSeen : snapshot?.publicLastSeen) ?? null;
  const latestPage = perspective === 'member' ? null : (snapshot?.latestPage ?? null);
  const v = snapshot?.v ?? null;
  if (!view || view.status === 'offline') {
    return { userId, status: 'offline', page: null, latestPage, message: null, activity: null, lastSeen, v };
  }
  const shown = perspective === 'member' ? forMember(view) : view;
  return {
    userId,
    status: shown.status,
    page: perspective === 'member' ? null : shown.page,
    latestPage,
    message: shown.message === '' ? null : shown.message,
    activity: shown.activity,
    lastSeen,
    v,
  };
}

/** The server message announcing a pending change to `perspective`. */
export function messageForChange(record: ChangeRecord, perspective: Perspective) {
  const own = perspective === 'own';
  const view = own ? record.ownView : record.friendView;
  const lastSeen = own ? record.lastSeen : record.publicLastSeen;
  if (view.status === 'offline') return presenceTimeoutMessage(record.userId, lastSeen, record.v);
  if (perspective === 'member') return updatePresenceMessage(record.userId, forMember(view), null, lastSeen, record.v);
  return updatePresenceMessage(record.userId, view, record.latestPage, lastSeen, record.v);
}
