/**
 * The ids of the last messages (room and private) this node received through the bus,
 * with their send times: what a replay after a gap in the bus (`replayBusGap`) must not
 * send again. A fixed ring of typed arrays: two stores per message, nothing allocated,
 * nothing to collect, whatever the traffic.
 */
export class ReceivedMessages {
  private readonly mids: Float64Array;
  private readonly stamps: Float64Array;
  private next = 0;
  private count = 0;

  constructor(readonly capacity = RECEIVED_MESSAGES_KEPT) {
    this.mids = new Float64Array(capacity);
    this.stamps = new Float64Array(capacity);
  }

  add(mid: number, ts: number): void {
    this.mids[this.next] = mid;
    this.stamps[this.next] = ts;
    this.next = (this.next + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
  }

  /**
   * The ids received of messages sent at or after `since`, and whether the ring still
   * reaches back that far (false: some received then have been overwritten, so a replay
   * of that window may send a few again; each keeps its `mid`, by which clients know it).
   */
  since(since: number): { readonly mids: Set<number>; readonly complete: boolean } {
    const mids = new Set<number>();
    let oldest = Number.POSITIVE_INFINITY;
    for (let i = 0; i < this.count; i++) {
      const slot = (this.next - 1 - i + this.capacity) % this.capacity;
      const ts = this.stamps[slot]!;
      if (ts < oldest) oldest = ts;
      if (ts >= since) mids.add(this.mids[slot]!);
    }
    return { mids, complete: this.count < this.capacity || oldest < since };
  }
}

/**
 * Enough for several seconds of a busy node's messages (the window a replay after a gap
 * looks back over), at 128 KiB a node.
 */
export const RECEIVED_MESSAGES_KEPT = 8_192;
