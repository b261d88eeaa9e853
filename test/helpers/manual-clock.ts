import type { Clock, TimerHandle } from '../../src/core/clock.js';

/**
 * A clock that stands still until a test moves it (for windows measured in minutes);
 * its timers are real ones.
 */
export class ManualClock implements Clock {
  private current = Date.UTC(2026, 0, 15, 12, 0, 0);

  now(): number {
    return this.current;
  }

  advance(ms: number): void {
    this.current += ms;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    return setTimeout(callback, ms) as unknown as TimerHandle;
  }

  clearTimeout(handle: TimerHandle): void {
    clearTimeout(handle as unknown as NodeJS.Timeout);
  }
}
