import type { Clock, TimerHandle } from '../../src/core/clock.js';

/** Real timers, but a `now` that tests can move forward (for windows measured in minutes). */
export class ManualClock implements Clock {
  private offsetMs = 0;

  now(): number {
    return Date.now() + this.offsetMs;
  }

  advance(ms: number): void {
    this.offsetMs += ms;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    return setTimeout(callback, ms) as unknown as TimerHandle;
  }

  clearTimeout(handle: TimerHandle): void {
    clearTimeout(handle as unknown as NodeJS.Timeout);
  }
}
