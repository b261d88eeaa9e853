import type { ChatCore } from '../chat-core.js';
import { ChatError } from '../errors.js';
import type { Session } from '../session.js';
import { Repeating } from '../clock.js';
import { CaseLog } from './case-log.js';
import { IdleSweeper } from './idle-sweeper.js';
import { Moderation, type LoginAttempt } from './moderation.js';
import { canonicalAddress } from '../limits/address-group.js';
import { ShutdownCountdown } from './shutdown-countdown.js';

/** The name admin actions from the server console are recorded under. */
export const CONSOLE_ACTOR = '(console)';

/** Requests a suspended session may still make: keepalives and leaving. */
const ALLOWED_WHILE_SUSPENDED: ReadonlySet<string> = new Set(['quit', 'ping']);

/**
 * Administration as the core uses it: moderation state, the shutdown countdown, the idle
 * sweep and the audit log, behind the few calls the core makes at its gates.
 */
export class AdminServices {
  readonly moderation: Moderation;
  readonly countdown: ShutdownCountdown;
  readonly cases: CaseLog;
  private readonly idle: IdleSweeper;
  /** Lifts timed suspensions when their time is up (the escalation ladder's). */
  private readonly expiry: Repeating;

  constructor(private readonly core: ChatCore) {
    this.moderation = new Moderation(core);
    this.countdown = new ShutdownCountdown(core);
    this.cases = new CaseLog(core);
    this.idle = new IdleSweeper(core);
    this.expiry = new Repeating(core.clock, 1000, () => {
      this.cases.liftExpired().catch((error: unknown) => {
        this.core.logger.error({ err: error }, 'could not lift an ended suspension');
      });
    });
  }

  /** Loads persisted bans, suspensions, the lock and monitoring, and starts the idle sweep. */
  async start(): Promise<void> {
    // Everyone is told when private messages start or stop going to the log.
    this.core.config.onChange((keys) => {
      if (keys.includes('logs.privateMessages'))
        this.core.publish(
          { kind: 'everyone' },
          { ev: 'monitor', on: this.core.params['logs.privateMessages'], what: 'log' },
        );
    });
    await this.moderation.load();
    this.idle.start();
    this.expiry.start();
  }

  /** Runs the idle check at once (tests; the timer runs it every second). */
  sweepIdleNow(): void {
    this.idle.sweep();
  }

  stop(): void {
    this.idle.stop();
    this.expiry.stop();
    this.countdown.dispose();
  }

  /** The admin part of the login gate (the core checks shutdown, taken and full). */
  checkLogin(nickKey: string, attempt: LoginAttempt): void {
    if (this.countdown.isRunning)
      throw new ChatError(
        'shutting_down',
        `The server is shutting down in ${this.countdown.secondsLeft} seconds`,
      );
    this.moderation.checkLogin(nickKey, attempt);
  }

  /** The dispatcher's one check for suspended sessions; returns the refusal, if any. */
  refusalFor(session: Session, command: string): ChatError | undefined {
    if (!this.moderation.isSuspended(session) || ALLOWED_WHILE_SUSPENDED.has(command))
      return undefined;
    return new ChatError('suspended');
  }

  /** After a login's reply: remember the address (for bans) and say what applies. */
  welcome(session: Session, address: string): void {
    this.core.store.moderation
      .recordAddress(session.nickKey, canonicalAddress(address), this.core.clock.now())
      .catch((error: unknown) =>
        this.core.logger.warn({ err: error, nick: session.nick }, 'could not record address'),
      );
    if (this.moderation.isMonitoring) this.core.sendTo(session, { ev: 'monitor', on: true });
    if (this.core.params['logs.privateMessages'])
      this.core.sendTo(session, { ev: 'monitor', on: true, what: 'log' });
    if (this.moderation.isSuspended(session))
      this.core.sendTo(session, {
        ev: 'suspension',
        nick: session.nick,
        suspended: true,
        by: this.moderation.suspendedBy(session.nickKey) ?? CONSOLE_ACTOR,
      });
  }

  /**
   * The audit log: who did what to whom, when. Recorded in the store, `logs/audit.log` and
   * the server log.
   */
  audit(
    actor: Session,
    action: string,
    target: string | null,
    details: string | null = null,
  ): Promise<void> {
    return this.auditAs(actor.nick, action, target, details);
  }

  /** As `audit`, for an actor that is not a session (the escalation ladder). */
  async auditAs(
    actor: string,
    action: string,
    target: string | null,
    details: string | null = null,
  ): Promise<void> {
    const entry = { ts: this.core.clock.now(), actor, action, target, details };
    this.core.auditLog.record({ kind: 'admin', ...entry });
    this.core.logger.info({ event: 'audit', ...entry }, 'admin action');
    try {
      await this.core.store.audit.record(entry);
    } catch (error) {
      // The action is done: failing to record it must not undo or hide it.
      this.core.logger.error({ err: error, ...entry }, 'could not write the audit log');
    }
  }
}
