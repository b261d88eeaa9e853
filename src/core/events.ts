import type { EventPayload } from '../protocol/events.js';
import type { NodeIds } from './ids/node-ids.js';

export type {
  ChatEvent,
  EventName,
  EventPayload,
  FileEventPayload,
  LeaveReason,
  Limits,
  Replay,
} from '../protocol/events.js';

/**
 * Stamps payloads with ids and times; one per node. Ids come from the node's id blocks:
 * unique across nodes and restarts (see `NodeIds`), so an event forwarded from another
 * node never shares an id with one made here.
 */
export class EventFactory {
  constructor(
    private readonly now: () => number,
    private readonly ids: NodeIds,
  ) {}

  make<P extends EventPayload>(
    payload: P,
    ts = this.now(),
  ): Readonly<P & { id: number; ts: number }> {
    // Readonly by type, not frozen: freezing every event costs more than encoding it.
    return { ...payload, id: this.ids.next(), ts };
  }

  /** A new event id, for an event built whole by its caller (the message path). */
  id(): number {
    return this.ids.next();
  }
}
