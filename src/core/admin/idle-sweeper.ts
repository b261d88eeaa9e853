import type { ChatCore } from '../chat-core.js';
import { Repeating } from '../clock.js';
import { describeDuration } from './duration.js';

/** How often sessions are checked for inactivity. */
const SWEEP_MS = 1000;

/**
 * Logs out sessions without user input for `idleTimeoutSeconds` (0: never). Keepalive
 * pings do not count as input: the dispatcher does not update `lastInputAt` for them.
 */
export class IdleSweeper {
  private readonly repeating: Repeating;

  constructor(private readonly core: ChatCore) {
    this.repeating = new Repeating(core.clock, SWEEP_MS, () => this.sweep());
  }

  start(): void {
    this.repeating.start();
  }

  stop(): void {
    this.repeating.stop();
  }

  sweep(): void {
    const limitSeconds = this.core.params.idleTimeoutSeconds;
    if (limitSeconds === 0) return;
    const now = this.core.clock.now();
    const limitMs = limitSeconds * 1000;
    for (const session of [...this.core.onlineSessions()]) {
      const link = session.link;
      // Sessions waiting to be resumed have their own deadline (the resume grace period).
      if (!link || now - session.lastInputAt < limitMs) continue;
      const message = `Logged out after ${describeDuration(limitMs)} without input`;
      this.core.sendTo(session, { ev: 'notice', text: message });
      this.core.logger.info(
        { event: 'idle_timeout', session: session.id, nick: session.nick },
        'idle timeout',
      );
      this.core.closeLink(link, 'idle_timeout', message, 'timeout');
    }
  }
}
