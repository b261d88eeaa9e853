import type { ChatCore } from '../chat-core.js';
import type { TimerHandle } from '../clock.js';

/** Seconds left at which everyone is reminded (plus the start of the countdown). */
const NOTICE_MARKS = [3600, 1800, 900, 600, 300, 120, 60, 30, 10, 5, 3, 2, 1];

export type StopHandler = (reason: string | undefined) => void;

/**
 * A shutdown announced ahead: notices to everyone at the start and at the marks above,
 * new logins refused throughout, then the stop handler (the server's clean stop). Admins
 * and signals start it alike; an admin may cancel it.
 */
export class ShutdownCountdown {
  private timer: TimerHandle | undefined;
  private deadline = 0;
  private reason: string | undefined;
  private stopHandler: StopHandler | undefined;

  constructor(private readonly core: ChatCore) {}

  /** The server registers how to stop itself cleanly; without one the core just closes. */
  onStop(handler: StopHandler): void {
    this.stopHandler = handler;
  }

  get isRunning(): boolean {
    return this.timer !== undefined;
  }

  get secondsLeft(): number {
    return Math.max(0, Math.ceil((this.deadline - this.core.clock.now()) / 1000));
  }

  /** Starts (or restarts, with the new delay) the countdown. */
  start(seconds: number, reason: string | undefined): void {
    this.clearTimer();
    this.reason = reason;
    this.deadline = this.core.clock.now() + seconds * 1000;
    this.core.logger.info({ event: 'shutdown_scheduled', seconds, reason }, 'shutdown scheduled');
    // At 0 the stop itself tells everyone; a notice "in 0 seconds" first would be noise.
    if (seconds > 0) this.announce(seconds);
    this.scheduleNext(seconds);
  }

  /** Returns false when no countdown was running. */
  cancel(by: string): boolean {
    if (!this.isRunning) return false;
    this.clearTimer();
    this.core.logger.info({ event: 'shutdown_cancelled', by }, 'shutdown cancelled');
    this.core.publish({ kind: 'everyone' }, { ev: 'shutdown_cancelled', by });
    return true;
  }

  /** The core is stopping anyway: forget the countdown's timer. */
  dispose(): void {
    this.clearTimer();
  }

  private scheduleNext(left: number): void {
    const next = NOTICE_MARKS.find((mark) => mark < left) ?? 0;
    // Timers can fire early or late: aim at the deadline, not at a sum of delays.
    const delay = Math.max(0, this.deadline - next * 1000 - this.core.clock.now());
    this.timer = this.core.clock.setTimeout(() => {
      if (next > 0) {
        this.announce(next);
        this.scheduleNext(next);
        return;
      }
      this.timer = undefined;
      this.finish();
    }, delay);
  }

  private announce(seconds: number): void {
    const reason = this.reason;
    this.core.publish(
      { kind: 'everyone' },
      reason === undefined ? { ev: 'shutdown', seconds } : { ev: 'shutdown', seconds, reason },
    );
  }

  private finish(): void {
    if (this.stopHandler) this.stopHandler(this.reason);
    else void this.core.shutdown(0, this.reason);
  }

  private clearTimer(): void {
    if (this.timer !== undefined) this.core.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
