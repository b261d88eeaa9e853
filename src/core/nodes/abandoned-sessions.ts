import type { ChatCore } from '../chat-core.js';
import { Repeating } from '../clock.js';
import type { AbandonedSession } from '../directory/directory.js';

/**
 * How often a node looks for dead nodes' sessions whose resume window has closed. The
 * look is one directory call that finds nothing almost always; every 2 s puts the leave
 * at most that long after the window closes.
 */
export const ABANDONED_SWEEP_MS = 2_000;

/**
 * The leaves nobody else can announce. A node that dies takes its sessions with it, unseen:
 * each waits `resume.graceSeconds` (from its node's last renewal) to be resumed on another
 * node, as a dropped connection waits on one node. One that was not resumed by then is
 * gone, and a surviving node says so as its own node would have: `offline` with reason
 * `dropped` to the same audience, its departure recorded for `/wholasthr` and `/whois`,
 * an account's last seen moved to when its node was last alive. Every node looks; the
 * directory hands each abandoned session to one of them (`takeAbandoned`), so each leave
 * is announced once across the cluster. Its nickname and entry were freed when its node's
 * lease lapsed; the other nodes' rooms never held it (each node's rooms list its own
 * sessions), so there is nothing to remove from them.
 */
export class AbandonedSessions {
  private readonly repeating: Repeating;
  private sweeping = false;

  constructor(private readonly core: ChatCore) {
    this.repeating = new Repeating(core.clock, ABANDONED_SWEEP_MS, () => this.sweep());
  }

  start(): void {
    this.repeating.start();
  }

  stop(): void {
    this.repeating.stop();
  }

  /** One look (a slow directory is not asked again before it answered). */
  sweep(): void {
    const { core } = this;
    if (this.sweeping || core.isShuttingDown) return;
    this.sweeping = true;
    const graceMs = core.params['resume.graceSeconds'] * 1000;
    core.directory
      .takeAbandoned(graceMs)
      .then((abandoned) => {
        for (const each of abandoned) this.announce(each);
      })
      .catch((error: unknown) =>
        core.logger.warn({ err: error }, 'could not look for dead nodes’ sessions'),
      )
      .finally(() => {
        this.sweeping = false;
      });
  }

  private announce({ record, lastSeen, nickHeld }: AbandonedSession): void {
    const { core } = this;
    core.logger.info(
      {
        event: 'abandoned_session',
        session: record.session,
        nick: record.nick,
        node: record.node,
        announced: !nickHeld,
      },
      'a dead node’s session was not resumed in time',
    );
    // Someone holds the nickname now (it was free once the node's lease lapsed): they are
    // online under it, and a leave in that name would say otherwise.
    if (!nickHeld) announceUnseenLeave(core, record, lastSeen);
  }
}

/** Who left, as a resume record or a handed-over session's summary names them. */
export interface Leaver {
  readonly session: string;
  readonly nick: string;
  readonly nickKey: string;
  readonly accountId: number | null;
  /** Rooms besides the lobby. */
  readonly rooms: readonly string[];
}

/**
 * The leave of a session that ended where nobody announced it (its node died, or it was
 * handed over to a node that had stopped waiting): `offline` with reason `dropped`, as a
 * dropped session's end on its own node, its departure, an account's last seen. Not when
 * this node holds that nickname now (its holder is online).
 */
export function announceUnseenLeave(core: ChatCore, who: Leaver, lastSeen: number): void {
  if (core.findSession(who.nickKey)) return;
  core.publish(core.presenceAudienceOf(who.rooms), {
    ev: 'offline',
    nick: who.nick,
    reason: 'dropped',
  });
  core.directory
    .recordDeparture({
      nick: who.nick,
      key: who.nickKey,
      account: who.accountId !== null,
      lastSeen,
    })
    .catch((error: unknown) =>
      core.logger.warn({ err: error, session: who.session }, 'could not record the departure'),
    );
  // Forward only: a login and logout elsewhere since then stays the newer.
  if (who.accountId !== null)
    core.store.accounts
      .touchLastSeen([who.accountId], lastSeen)
      .catch((error: unknown) =>
        core.logger.warn({ err: error, account: who.accountId }, 'could not record last seen'),
      );
}
