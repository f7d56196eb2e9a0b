// The presence event envelope the contract publishes ("Presence Changed" from source presence-api), shared by the
// EventBridge publisher and the local event bus.
import type { PresenceEventDetail } from './ports';

/** The contract's event source. */
export const EVENT_SOURCE = 'presence-api';
/** The contract's detail type. */
export const EVENT_DETAIL_TYPE = 'Presence Changed';

/** One presence event as the contract shows it (EventBridge adds its own envelope fields around these). */
export interface PresenceEvent {
  readonly source: typeof EVENT_SOURCE;
  readonly 'detail-type': typeof EVENT_DETAIL_TYPE;
  readonly detail: PresenceEventDetail;
}

/** Wraps a detail in the contract's envelope. */
export function presenceEvent(detail: PresenceEventDetail): PresenceEvent {
  return { source: EVENT_SOURCE, 'detail-type': EVENT_DETAIL_TYPE, detail };
}
