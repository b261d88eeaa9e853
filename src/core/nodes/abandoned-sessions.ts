import type { ChatCore } from '../chat-core.js';
import { Repeating } from '../clock.js';
import type { AbandonedSession } from '../directory/directory.js';
import { AWAY_RING_CAPACITY } from '../resume/event-ring.js';

/**
 * How often a node looks for dead nodes' sessions whose resume window has closed. The
 * look is one directory call that finds nothing almost always; every 2 s puts the leave
 * at most that long after the window closes.
 */
export const ABANDONED_SWEEP_MS = 2_000;

/**
 * How far the clocks of the nodes and Redis may disagree: the window of what a dead node's
 * session never got is widened by it at both ends, so none of those messages is left out.
 */
const CLOCK_MARGIN_MS = 250;

/**
 * The leaves nobody else can announce. A node that dies takes its sessions with it, unseen:
 * each waits `resume.graceSeconds` (from its node's last renewal) to be resumed on another
 * node, as a dropped connection waits on one node. One that was not resumed by then is
 * gone, and a surviving node says so as its own node would have: `offline` with reason
 * `dropped` to the same audience, its departure recorded for `/wholasthr` and `/whois`,
 * an account's last seen moved to when its node was last alive (or its connection dropped,
 * if that was earlier), and an account's private messages that went to the dead node for
 * it made its stored messages again, for its next login and `/inbox` (`restoreUnsent`).
 * Every node looks; the directory hands each abandoned session to one of them
 * (`takeAbandoned`), so each leave is announced once across the cluster (again by another
 * node only if the one that took it died before saying it was done: `finishAbandoned`).
 * Its nickname and entry were freed when its node's lease lapsed; the other nodes' rooms
 * never held it (each node's rooms list its own sessions), so there is nothing to remove
 * from them.
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
      .then(async (abandoned) => {
        await Promise.all(abandoned.map((each) => this.announce(each)));
        // Announced: until now, had this node died, another would have taken them again.
        await core.directory.finishAbandoned(abandoned.map((each) => each.key));
      })
      .catch((error: unknown) =>
        core.logger.warn({ err: error }, 'could not look for dead nodes’ sessions'),
      )
      .finally(() => {
        this.sweeping = false;
      });
  }

  private async announce(abandoned: AbandonedSession): Promise<void> {
    const { core } = this;
    const { record, nickHeld } = abandoned;
    // Its last sign of life: its connection's drop, or its node's last renewal.
    const lastSeen = Math.min(record.awaySince ?? abandoned.lastSeen, abandoned.lastSeen);
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
    // Before the leave, so that a login it prompts finds them (they are restored even when
    // the account is online again elsewhere: that session never got them either).
    await restoreUnsent(core, abandoned, lastSeen).catch((error: unknown) =>
      core.logger.warn(
        { err: error, session: record.session },
        'could not restore the private messages of a dead node’s session',
      ),
    );
    // Someone holds the nickname now (it was free once the node's lease lapsed): they are
    // online under it, and a leave in that name would say otherwise.
    if (!nickHeld) announceUnseenLeave(core, record, lastSeen);
  }
}

/**
 * An account's private messages that went to its session on a node that died (sent from
 * its last sign of life until the node's claims lapsed) were stored as delivered live, but
 * its person never got them: they become its stored messages again, neither delivered nor
 * read, as `ResumeRegistry.unsentPrivates` makes them on one node. The dead node's log is
 * gone, so they are found by time: delivered live in that window (a guest has no next
 * login to show them at). Only the newest `AWAY_RING_CAPACITY` of its messages are looked
 * at, as many as the session's log would have held.
 *
 * At least once: a connected session's last sign of life is its node's last lease renewal
 * (every third of the lease, 2 s), so a message it got in its node's last moments, after
 * that renewal, comes again at the next login (marked missed, with its `mid`).
 */
async function restoreUnsent(
  core: ChatCore,
  { record, goneAt }: AbandonedSession,
  lastSeen: number,
): Promise<void> {
  if (record.accountId === null) return;
  const from = lastSeen - CLOCK_MARGIN_MS;
  const until = goneAt + CLOCK_MARGIN_MS;
  const recent = await core.store.inbox.list(record.accountId, {
    all: true,
    limit: AWAY_RING_CAPACITY,
  });
  const ids = recent
    .filter((entry) => entry.read && entry.ts >= from && entry.ts <= until)
    .map((entry) => entry.id);
  await core.store.inbox.markUndelivered(record.accountId, ids);
  if (ids.length > 0)
    core.logger.info(
      { event: 'abandoned_privates', session: record.session, restored: ids.length },
      'private messages a dead node’s session never got are stored for its next login',
    );
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
