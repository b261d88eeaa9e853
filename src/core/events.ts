import type { EventPayload } from '../protocol/events.js';

export type {
  ChatEvent,
  EventName,
  EventPayload,
  FileEventPayload,
  LeaveReason,
  Limits,
  Replay,
} from '../protocol/events.js';

/** Stamps payloads with ids and times; one per server process. */
export class EventFactory {
  private lastId = 0;

  constructor(private readonly now: () => number) {}

  make<P extends EventPayload>(
    payload: P,
    ts = this.now(),
  ): Readonly<P & { id: number; ts: number }> {
    // Readonly by type, not frozen: freezing every event costs more than encoding it.
    return { ...payload, id: ++this.lastId, ts };
  }
}
