import type { Ban, ModerationSwitch, ModerationSwitches, Suspension } from '../../store/store.js';
import type { ChatCore } from '../chat-core.js';
import { ChatError } from '../errors.js';
import type { AccountRef, Session } from '../session.js';
import { canonicalAddress } from '../limits/address-group.js';

/** Who is trying to log in, known only once the password (if any) has been checked. */
export interface LoginAttempt {
  readonly address: string;
  readonly account: AccountRef | null;
}

/**
 * The moderation state: the lock, bans, suspensions and monitoring. All four are persisted
 * and cached here, so the login gate, the dispatcher and delivery check them without
 * waiting on the store. A change is stored first and cached once stored: a command whose
 * write fails changes nothing and says so (`storage_failed`).
 */
export class Moderation {
  private switches: ModerationSwitches = { locked: false, monitoring: false };
  private bans: Ban[] = [];
  private readonly suspended = new Map<string, Suspension>();

  constructor(private readonly core: ChatCore) {}

  async load(): Promise<void> {
    this.bans = await this.core.store.moderation.activeBans(this.core.clock.now());
    this.suspended.clear();
    for (const suspension of await this.core.store.moderation.suspensions())
      this.suspended.set(suspension.nameKey, suspension);
    this.switches = await this.core.store.moderation.switches();
    if (this.switches.locked || this.switches.monitoring)
      this.core.logger.warn(
        { event: 'moderation_restored', ...this.switches },
        'lock and monitoring restored as they were before the restart',
      );
  }

  /** Another node changed one of the cached states in the store: read it again. */
  async reload(what: 'bans' | 'suspensions' | 'switches'): Promise<void> {
    const { store, clock } = this.core;
    if (what === 'bans') this.bans = await store.moderation.activeBans(clock.now());
    else if (what === 'switches') this.switches = await store.moderation.switches();
    else {
      const suspensions = await store.moderation.suspensions();
      this.suspended.clear();
      for (const suspension of suspensions) this.suspended.set(suspension.nameKey, suspension);
    }
  }

  // ---- the login gate ------------------------------------------------------------------

  /**
   * Refuses a new login while locked or banned. Admin accounts pass the lock and address
   * bans (an admin sharing an address with a banned user must still get in to lift it),
   * but not a ban on their own name.
   */
  checkLogin(nickKey: string, attempt: LoginAttempt): void {
    const isAdmin = attempt.account?.role === 'admin';
    const ban = this.banFor(nickKey, isAdmin ? undefined : canonicalAddress(attempt.address));
    if (ban) {
      const until =
        ban.expiresAt === null ? 'for good' : `until ${new Date(ban.expiresAt).toISOString()}`;
      throw new ChatError(
        'banned',
        `You are banned from this server ${until}${ban.reason ? `: ${ban.reason}` : ''}`,
        { reason: ban.reason, until: ban.expiresAt },
      );
    }
    if (this.switches.locked && !isAdmin) throw new ChatError('server_locked');
  }

  // ---- lock ----------------------------------------------------------------------------

  get isLocked(): boolean {
    return this.switches.locked;
  }

  /** Stores and applies the lock; resolves false when it was already so. */
  setLocked(locked: boolean): Promise<boolean> {
    return this.setSwitch('locked', locked);
  }

  // ---- bans ----------------------------------------------------------------------------

  activeBans(): readonly Ban[] {
    const now = this.core.clock.now();
    this.bans = this.bans.filter((ban) => ban.expiresAt === null || ban.expiresAt > now);
    return this.bans;
  }

  banFor(nickKey: string, address?: string): Ban | undefined {
    return this.activeBans().find(
      (ban) => ban.nameKey === nickKey || (address !== undefined && ban.address === address),
    );
  }

  async addBan(ban: Omit<Ban, 'id'>): Promise<Ban> {
    const stored = await this.core.store.moderation.addBan(ban);
    this.bans.push(stored);
    await this.core.nodes.invalidate({ what: 'bans' });
    return stored;
  }

  /** Lifts the bans on a name; false when there were none. */
  async removeBans(nameKey: string): Promise<boolean> {
    const removed = await this.core.store.moderation.removeBans(nameKey);
    const cached = this.bans.length;
    this.bans = this.bans.filter((ban) => ban.nameKey !== nameKey);
    await this.core.nodes.invalidate({ what: 'bans' });
    return removed > 0 || cached !== this.bans.length;
  }

  // ---- suspensions ---------------------------------------------------------------------

  isSuspended(session: Session): boolean {
    return this.isNameSuspended(session.nickKey);
  }

  /** True while a suspension is in force (a timed one lapses at its end, sweep or not). */
  isNameSuspended(nameKey: string): boolean {
    const suspension = this.suspended.get(nameKey);
    return (
      suspension !== undefined &&
      (suspension.expiresAt === null || suspension.expiresAt > this.core.clock.now())
    );
  }

  /** Timed suspensions whose end has come: removed here and in the store, and returned. */
  async expireSuspensions(): Promise<Suspension[]> {
    const now = this.core.clock.now();
    const ended = [...this.suspended.values()].filter(
      (suspension) => suspension.expiresAt !== null && suspension.expiresAt <= now,
    );
    for (const suspension of ended) {
      this.suspended.delete(suspension.nameKey);
      await this.core.store.moderation.removeSuspension(suspension.nameKey);
    }
    if (ended.length > 0) await this.core.nodes.invalidate({ what: 'suspensions' });
    return ended;
  }

  suspendedBy(nameKey: string): string | undefined {
    return this.suspended.get(nameKey)?.createdBy;
  }

  async suspend(suspension: Suspension): Promise<void> {
    await this.core.store.moderation.addSuspension(suspension);
    this.suspended.set(suspension.nameKey, suspension);
    await this.core.nodes.invalidate({ what: 'suspensions' });
  }

  async forgive(nameKey: string): Promise<void> {
    await this.core.store.moderation.removeSuspension(nameKey);
    this.suspended.delete(nameKey);
    await this.core.nodes.invalidate({ what: 'suspensions' });
  }

  // ---- monitoring ----------------------------------------------------------------------

  get isMonitoring(): boolean {
    return this.switches.monitoring;
  }

  /** Stores and applies monitoring; resolves false when it was already so. */
  setMonitoring(on: boolean): Promise<boolean> {
    return this.setSwitch('monitoring', on);
  }

  /** While monitoring is on, admins get a copy of private messages they are not part of. */
  copyToMonitors(
    message: { mid: number; from: string; to: readonly string[]; text: string; ts: number },
    involved: ReadonlySet<string>,
  ): void {
    if (!this.switches.monitoring) return;
    const { ts, ...fields } = message;
    // Each node copies to the admins it holds.
    this.core.publish(
      { kind: 'admins', except: [...involved] },
      { ev: 'monitored', ...fields },
      { ts },
    );
  }

  // ---- switches ------------------------------------------------------------------------

  /**
   * Stored before it applies, so what the command replies is what a restart restores; a
   * failed write rejects (the caller replies `storage_failed`) and changes nothing.
   */
  private async setSwitch(name: ModerationSwitch, on: boolean): Promise<boolean> {
    if (this.switches[name] === on) return false;
    await this.core.store.moderation.setSwitch(name, on);
    // Another admin may have made the same change while this one was being stored.
    if (this.switches[name] === on) return false;
    this.switches = { ...this.switches, [name]: on };
    await this.core.nodes.invalidate({ what: 'switches' });
    return true;
  }
}
