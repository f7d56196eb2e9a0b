// EventPublisher on EventBridge: each presence event as a "Presence Changed" event from source presence-api.
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { EVENT_DETAIL_TYPE, EVENT_SOURCE } from '../../delivery/events';
import type { EventPublisher, PresenceEventDetail } from '../../delivery/ports';
import { boundedHttpHandler } from '../aws-http';

/** PutEvents takes at most 10 entries per call. */
const PUT_EVENTS_MAX = 10;

/** {@link EventPublisher} on one event bus; a partly failed call throws, so the change is published again later. */
export class EventBridgePublisher implements EventPublisher {
  private readonly client = new EventBridgeClient({ requestHandler: boundedHttpHandler({ maxSockets: 8 }) });

  constructor(private readonly busName: string) {}

  async publish(events: readonly PresenceEventDetail[]): Promise<void> {
    for (let i = 0; i < events.length; i += PUT_EVENTS_MAX) {
      const result = await this.client.send(
        new PutEventsCommand({
          Entries: events.slice(i, i + PUT_EVENTS_MAX).map((detail) => ({
            EventBusName: this.busName,
            Source: EVENT_SOURCE,
            DetailType: EVENT_DETAIL_TYPE,
            Detail: JSON.stringify(detail),
          })),
        }),
      );
      if ((result.FailedEntryCount ?? 0) > 0)
        throw new Error(`${result.FailedEntryCount} presence events were not accepted`);
    }
  }
}

/** No bus configured: events are not published. */
export const NO_EVENTS: EventPublisher = Object.freeze({ publish: async () => undefined });
