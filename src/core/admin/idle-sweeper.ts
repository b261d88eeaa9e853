import type { ChatCore } from '../chat-core.js';
import { Repeating } from '../clock.js';
import type { Session } from '../session.js';
import { describeDuration } from './duration.js';

/** How often sessions are checked for inactivity. */
const SWEEP_MS = 1000;

/**
 * Logs out sessions without user input for `idleTimeoutSeconds` (0: never). Keepalive
 * pings do not count as input: the dispatcher does not update `lastInputAt` for them.
 */
export class IdleSweeper {
  private readonly repeating: Repeating;
  /** Sessions timed out whose end waits for the messages on their way (`drainBeforeEnd`). */
  private readonly ending = new Set<Session>();

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
      if (this.ending.has(session)) continue;
      const message = `Logged out after ${describeDuration(limitMs)} without input`;
      this.core.sendTo(session, { ev: 'notice', text: message });
      this.core.logger.info(
        { event: 'idle_timeout', session: session.id, nick: session.nick },
        'idle timeout',
      );
      this.ending.add(session);
      void this.core
        .drainBeforeEnd(session)
        .then((here) => {
          // Still the connection that was idle: one resumed meanwhile starts afresh.
          if (here && session.link === link)
            this.core.closeLink(link, 'idle_timeout', message, 'timeout');
        })
        .finally(() => this.ending.delete(session));
    }
  }
}
