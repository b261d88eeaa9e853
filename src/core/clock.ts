/** Time as the core sees it: injectable so timeouts can be tested without waiting. */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export interface TimerHandle {
  readonly __timer: unique symbol;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  // Timers keep the process alive (a shutdown countdown must run to its end), so whoever
  // sets one clears it when the core stops.
  setTimeout: (callback, ms) => setTimeout(callback, ms) as unknown as TimerHandle,
  clearTimeout: (handle) => clearTimeout(handle as unknown as NodeJS.Timeout),
};

/**
 * Runs `tick` every `ms` on a clock, from `start()` until `stop()`. Each run is scheduled
 * after the previous one ends, so a slow tick never overlaps the next.
 */
export class Repeating {
  private timer: TimerHandle | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly ms: number,
    private readonly tick: () => void,
  ) {}

  start(): void {
    if (this.timer !== undefined) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.tick();
      this.start();
    }, this.ms);
  }

  stop(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
