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
  /** Id of the newest event that fell out of the ring, 0 when none did. */
  lostUpToId = 0;
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
    const oldest = this.slots[this.head]!;
    this.lostUpToId = oldest.id;
    this.lostCount++;
    this.slots[this.head] = event;
    this.head = (this.head + 1) % capacity;
  }

  /** The events held, oldest first, with an id above `afterId`. */
  after(afterId: number): ChatEvent[] {
    const out: ChatEvent[] = [];
    for (let i = 0; i < this.size; i++) {
      const event = this.slots[(this.head + i) % this.slots.length]!;
      if (event.id > afterId) out.push(event);
    }
    return out;
  }

  /** Changes the capacity, keeping the newest events that fit. */
  resize(capacity: number): void {
    if (capacity === this.slots.length) return;
    const kept = this.after(0);
    const dropped = Math.max(0, kept.length - capacity);
    if (dropped > 0) {
      this.lostUpToId = kept[dropped - 1]!.id;
      this.lostCount += dropped;
    }
    this.slots = new Array<ChatEvent | undefined>(capacity);
    const fresh = kept.slice(dropped);
    fresh.forEach((event, index) => (this.slots[index] = event));
    this.head = 0;
    this.size = fresh.length;
  }
}

/**
 * Events kept for a connected session: enough to cover what was on its way when the
 * connection broke, small enough to cost little per idle connection.
 */
export const CONNECTED_RING_CAPACITY = 16;
/** Events kept for a session waiting to be resumed; older ones are reported as lost. */
export const AWAY_RING_CAPACITY = 1000;
