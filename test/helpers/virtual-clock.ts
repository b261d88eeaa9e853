import type { Clock, TimerHandle } from '../../src/core/clock.js';

interface Timer {
  readonly at: number;
  readonly callback: () => void;
}

/**
 * A clock whose time moves only when a test says so, timers included: a timer fires when
 * `advance` passes its deadline (in deadline order, then creation order, each seeing the
 * time it was due), never on its own. So a test can reach a deadline measured in seconds or
 * minutes at once, and knows exactly which timers have fired. A timer set for 0 ms or less
 * is due now and fires on the next turn of the event loop.
 */
export class VirtualClock implements Clock {
  private current = Date.UTC(2026, 0, 15, 12, 0, 0);
  private readonly timers = new Map<TimerHandle, Timer>();

  now(): number {
    return this.current;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const handle = Object.freeze({}) as TimerHandle;
    this.timers.set(handle, { at: this.current + Math.max(0, ms), callback });
    if (ms <= 0) setImmediate(() => this.fire(handle));
    return handle;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle);
  }

  /** Moves time on by `ms`, running every timer that falls due on the way. */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      let due: [TimerHandle, Timer] | undefined;
      // Map order is creation order, so ties go to the older timer.
      for (const entry of this.timers)
        if (entry[1].at <= target && (!due || entry[1].at < due[1].at)) due = entry;
      if (!due) break;
      this.current = Math.max(this.current, due[1].at);
      this.fire(due[0]);
    }
    this.current = target;
  }

  private fire(handle: TimerHandle): void {
    const timer = this.timers.get(handle);
    if (!timer) return;
    this.timers.delete(handle);
    timer.callback();
  }
}
