import type { ChatCore } from '../chat-core.js';
import { Repeating } from '../clock.js';
import type { Session } from '../session.js';

/**
 * How often the last-seen time of every account online is written. After a crash (no
 * logout recorded) an account's next login replays what its rooms said since the last
 * checkpoint, so this bounds how much it is shown again that it had already seen live
 * (still at most `history.replay` per room). 30 s keeps that to a moment of conversation
 * while costing one lazy, batched write per interval however many are online.
 */
export const LAST_SEEN_CHECKPOINT_MS = 30_000;

/**
 * Checkpoints of `last_seen_at` while accounts are online, so a crash loses at most one
 * interval of it. A clean logout still records its exact time (`ChatCore.endSession`): a
 * checkpoint's time is taken while the account is online, so never after its logout, and
 * the store only moves last seen forward, so a logout written before a checkpoint's lazy
 * write stands.
 */
export class LastSeenCheckpoints {
  private readonly repeating: Repeating;

  constructor(private readonly core: ChatCore) {
    this.repeating = new Repeating(core.clock, LAST_SEEN_CHECKPOINT_MS, () => this.checkpoint());
  }

  start(): void {
    this.repeating.start();
  }

  stop(): void {
    this.repeating.stop();
  }

  /**
   * Every account connected now is seen now. Sessions away waiting to be resumed are
   * not: what they are sent waits in memory for a resume that may never come (grace
   * over, a crash, a login over it from another connection), and the next login's replay
   * starts from their last checkpoint or their drop (`ResumeRegistry.seenUntil`).
   */
  checkpoint(): void {
    const ids: number[] = [];
    for (const session of this.core.onlineSessions())
      if (session.account && !this.core.resume.isAway(session)) ids.push(session.account.id);
    this.write(ids);
  }

  /**
   * An account logged in and its backlog's start has been read: from now on it is seen,
   * so a crash before the next checkpoint does not replay this login's backlog again.
   */
  loggedIn(session: Session): void {
    // Only while online: a checkpoint's time is never after the session's logout.
    if (session.account && this.core.findSession(session.nickKey) === session)
      this.write([session.account.id]);
  }

  private write(ids: number[]): void {
    if (ids.length === 0) return;
    this.core.store.accounts
      .touchLastSeen(ids, this.core.clock.now())
      .catch((error: unknown) =>
        this.core.logger.warn(
          { err: error, accounts: ids.length },
          'could not checkpoint last seen',
        ),
      );
  }
}
