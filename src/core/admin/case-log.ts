import type { CaseAction, CaseEntry } from '../../store/store.js';
import type { ChatCore } from '../chat-core.js';
import { describeDuration } from './duration.js';
import { removeTarget } from './targets.js';

/** The name the ladder's own steps are recorded and announced under. */
export const ESCALATION_ACTOR = '(escalation)';

/** Entries `/cases` shows at most: the most recent ones. */
export const CASE_HISTORY_LIMIT = 200;

/** Whom an entry is about: a name and its folded key. */
export interface CaseSubject {
  readonly name: string;
  readonly key: string;
}

/** What the escalation ladder did after an entry, if anything. */
export type Escalation =
  | { readonly step: 'suspended'; readonly until: number }
  | { readonly step: 'banned'; readonly until: number | null };

/**
 * The moderation case log: every warning, kick, suspension, ban, lift and admin note about
 * a user, kept for good, and the optional escalation ladder (`escalation.*` parameters):
 * enough warnings in a window suspend the user for a while, enough suspensions in a window
 * ban them for a while. Each step the ladder takes is itself recorded, told to the user and
 * audited, exactly as if an admin had taken it.
 */
export class CaseLog {
  constructor(private readonly core: ChatCore) {}

  /** Records one entry; a failed write rejects (the caller replies `storage_failed`). */
  record(
    subject: CaseSubject,
    action: CaseAction,
    actor: string,
    reason: string | null,
    expiresAt: number | null = null,
  ): Promise<CaseEntry> {
    return this.core.store.cases.add({
      nameKey: subject.key,
      name: subject.name,
      action,
      actor,
      reason,
      ts: this.core.clock.now(),
      expiresAt,
    });
  }

  /**
   * Records an action an admin took (kick, ban, …) without failing it: the action is done,
   * and a case entry that could not be stored is logged rather than undoing it.
   */
  async recordTaken(
    subject: CaseSubject,
    action: CaseAction,
    actor: string,
    reason: string | null,
    expiresAt: number | null = null,
  ): Promise<void> {
    try {
      await this.record(subject, action, actor, reason, expiresAt);
    } catch (error) {
      this.core.logger.error(
        { err: error, target: subject.name, action },
        'could not write the moderation case log',
      );
    }
  }

  history(nameKey: string): Promise<CaseEntry[]> {
    return this.core.store.cases.forName(nameKey, CASE_HISTORY_LIMIT);
  }

  /** After a warning: suspends when the ladder says so, and bans when that says so too. */
  async afterWarning(subject: CaseSubject): Promise<Escalation | undefined> {
    const params = this.core.params;
    const limit = params['escalation.warnings'];
    if (limit === 0 || this.core.admin.moderation.isNameSuspended(subject.key)) return undefined;
    const warnings = await this.warningsCounted(subject.key);
    if (warnings < limit) return undefined;
    const suspendMs = params['escalation.suspendSeconds'] * 1000;
    const why = `${warnings} warnings within ${describeDuration(params['escalation.warningWindowSeconds'] * 1000)}`;
    const until = await this.suspend(subject, suspendMs, why);
    return (await this.afterSuspension(subject)) ?? { step: 'suspended', until };
  }

  /**
   * Warnings that count towards the next suspension: those within the window and after the
   * last suspension, so that a suspension served wipes the slate rather than letting the
   * next warning suspend again at once.
   */
  async warningsCounted(nameKey: string): Promise<number> {
    const windowStart =
      this.core.clock.now() - this.core.params['escalation.warningWindowSeconds'] * 1000;
    const lastSuspension = await this.core.store.cases.latest(nameKey, 'suspend');
    const since = Math.max(windowStart, lastSuspension ? lastSuspension.ts + 1 : windowStart);
    return this.core.store.cases.countSince(nameKey, 'warn', since);
  }

  /** After a suspension: bans when enough have come within the window. */
  async afterSuspension(subject: CaseSubject): Promise<Escalation | undefined> {
    const params = this.core.params;
    const limit = params['escalation.suspensions'];
    if (limit === 0) return undefined;
    if (this.core.admin.moderation.activeBans().some((ban) => ban.nameKey === subject.key))
      return undefined;
    const since = this.core.clock.now() - params['escalation.suspensionWindowSeconds'] * 1000;
    const suspensions = await this.core.store.cases.countSince(subject.key, 'suspend', since);
    if (suspensions < limit) return undefined;
    const banMs = params['escalation.banSeconds'] * 1000;
    const why = `${suspensions} suspensions within ${describeDuration(params['escalation.suspensionWindowSeconds'] * 1000)}`;
    const until = await this.ban(subject, banMs === 0 ? null : banMs, why);
    return { step: 'banned', until };
  }

  private async suspend(subject: CaseSubject, durationMs: number, why: string): Promise<number> {
    const now = this.core.clock.now();
    const until = now + durationMs;
    await this.core.admin.moderation.suspend({
      nameKey: subject.key,
      name: subject.name,
      createdAt: now,
      createdBy: ESCALATION_ACTOR,
      expiresAt: until,
    });
    await this.record(subject, 'suspend', ESCALATION_ACTOR, why, until);
    const session = this.core.findSession(subject.key);
    if (session)
      this.core.sendTo(session, {
        ev: 'notice',
        text: `You are suspended for ${describeDuration(durationMs)} (${why}): you can read and quit, nothing else`,
      });
    this.core.publish(
      { kind: 'everyone' },
      { ev: 'suspension', nick: subject.name, suspended: true, by: ESCALATION_ACTOR },
    );
    await this.core.admin.auditAs(ESCALATION_ACTOR, 'suspend', subject.name, why);
    return until;
  }

  private async ban(
    subject: CaseSubject,
    durationMs: number | null,
    why: string,
  ): Promise<number | null> {
    const now = this.core.clock.now();
    const until = durationMs === null ? null : now + durationMs;
    // The ladder bans the name only: an address ban takes an admin's judgement.
    await this.core.admin.moderation.addBan({
      nameKey: subject.key,
      name: subject.name,
      address: null,
      reason: why,
      createdAt: now,
      expiresAt: until,
      createdBy: ESCALATION_ACTOR,
    });
    await this.record(subject, 'ban', ESCALATION_ACTOR, why, until);
    const span = durationMs === null ? 'for good' : `for ${describeDuration(durationMs)}`;
    const session = this.core.findSession(subject.key);
    const remote = session ? undefined : await this.core.findRemote(subject.key);
    await removeTarget(
      this.core,
      { session, remote },
      { reason: 'banned', message: why },
      { code: 'banned', message: `You are banned ${span} (${why})` },
    );
    await this.core.admin.auditAs(ESCALATION_ACTOR, 'ban', subject.name, `${span}: ${why}`);
    return until;
  }

  /** Suspensions whose time is up are lifted, and everyone is told as for `/forgive`. */
  async liftExpired(): Promise<void> {
    for (const suspension of await this.core.admin.moderation.expireSuspensions()) {
      this.core.publish(
        { kind: 'everyone' },
        { ev: 'suspension', nick: suspension.name, suspended: false, by: ESCALATION_ACTOR },
      );
      await this.recordTaken(
        { name: suspension.name, key: suspension.nameKey },
        'forgive',
        ESCALATION_ACTOR,
        'the suspension ended',
      );
    }
  }
}
