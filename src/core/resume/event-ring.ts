import type { ChatEvent } from '../events.js';

/**
 * The last events delivered to one session, kept so a resumed session gets what it
 * missed. A ring of references to the shared, immutable events: it costs a few pointers,
 * is allocated only when a session first receives an event, and never grows past its
 * capacity (the oldest events fall out, and are counted).
 */
export class EventRing {
  private slots: Array<ChatEvent | undefined>;
  private head = 0;
  private size = 0;
  /** How many events fell out. */
  lostCount = 0;

  constructor(capacity: number) {
    this.slots = new Array<ChatEvent | undefined>(capacity);
  }

  get capacity(): number {
    return this.slots.length;
  }

  /** Id of the newest event held, 0 when empty. */
  get newestId(): number {
    if (this.size === 0) return 0;
    return this.slots[(this.head + this.size - 1) % this.slots.length]!.id;
  }

  push(event: ChatEvent): void {
    const capacity = this.slots.length;
    if (this.size < capacity) {
      this.slots[(this.head + this.size) % capacity] = event;
      this.size++;
      return;
    }
    this.lostCount++;
    this.slots[this.head] = event;
    this.head = (this.head + 1) % capacity;
  }

  /**
   * What follows the event with id `lastId` in this session's log, by position: ids are
   * stamped by whichever node published an event and a replay is delivered after events
   * held back while it was read, so ids do not grow along the log and are only ever
   * compared for equality. When `lastId` is not held (0, never sent, or fallen out), every
   * held event is returned, and `lost` says whether some had fallen out before them.
   */
  after(lastId: number): { events: ChatEvent[]; lost: boolean } {
    const held = this.all();
    for (let index = held.length - 1; index >= 0; index--)
      if (held[index]!.id === lastId) return { events: held.slice(index + 1), lost: false };
    return { events: held, lost: this.lostCount > 0 };
  }

  /** Changes the capacity, keeping the newest events that fit. */
  resize(capacity: number): void {
    if (capacity === this.slots.length) return;
    const kept = this.all();
    const dropped = Math.max(0, kept.length - capacity);
    this.lostCount += dropped;
    this.slots = new Array<ChatEvent | undefined>(capacity);
    const fresh = kept.slice(dropped);
    fresh.forEach((event, index) => (this.slots[index] = event));
    this.head = 0;
    this.size = fresh.length;
  }

  /** The events held, oldest first. */
  private all(): ChatEvent[] {
    const out: ChatEvent[] = [];
    for (let i = 0; i < this.size; i++) out.push(this.slots[(this.head + i) % this.slots.length]!);
    return out;
  }
}

/**
 * Events kept for a connected session: enough to cover what was on its way when the
 * connection broke, small enough to cost little per idle connection.
 */
export const CONNECTED_RING_CAPACITY = 16;
/** Events kept for a session waiting to be resumed; older ones are reported as lost. */
export const AWAY_RING_CAPACITY = 1000;
