import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Clock, TimerHandle } from '../../core/clock.js';
import { ChatError } from '../../core/errors.js';
import type {
  AbandonedSession,
  Departure,
  DirectoryEntry,
  ResumeRecord,
  SessionDirectory,
  TakenResume,
} from '../../core/directory/directory.js';
import { DIRECTORY_SCRIPTS, type DirectoryScript } from './redis-scripts.js';

/**
 * The session directory of a cluster, in Redis: one record of who holds which nickname
 * and which account, shared by every node.
 *
 * Leases. Every entry belongs to a node, and a node's entries count only while that node
 * holds its lease: a key `lease:<node>` with a time to live (`leaseMs`, 6 s by default)
 * that the node renews every third of it. A node that dies stops renewing; once the lease
 * expires, its claims are dead everywhere at once, with nothing to clean up first (every
 * script, redis-scripts.ts, checks the holder's lease). So a dead node's nicknames and account
 * sessions are free within `leaseMs` of its last renewal, well inside the 10 s the cluster
 * promises, and whether or not the heartbeats have noticed yet.
 *
 * Fencing (no split brain). A node that cannot renew its lease (cut off from Redis) counts
 * it lost `FENCE_MARGIN_MS` before Redis would expire it, measured from when it *sent* its
 * last confirmed renewal (Redis received it later, so expires it later): by then the node
 * has closed every session it holds (`onLost`), so no nickname is ever held by two live
 * sessions, and a ban made elsewhere meanwhile is never ignored by a session of the
 * cut-off node. A fenced node refuses logins until it holds a lease again; re-acquiring
 * removes whatever entries it left behind first.
 *
 * Layout under the prefix: `dir:s` (session id → entry JSON), `dir:n` (nickname key →
 * session id), `dir:a` (account id → session id), `dir:node:<node>` (a node's session ids),
 * `lease:<node>` (the node's lease token), `seen:<node>` (Redis's time of the node's last
 * renewal, kept after it dies), `departed` (sorted set, nickname key by time) and
 * `departed:info` (nickname key → departure JSON), `rs:<token hash>` (a session's resume
 * record, see `ResumeRecord`), `rs:node:<node>` (the token hashes of a node's records),
 * `rs:nodes` (the nodes that wrote records: where `takeAbandoned` looks for dead ones),
 * `ab:taken:<lease token>` (records a node took as abandoned and has not announced yet:
 * token hash → last renewal and record) and `ab:takers` (lease token → node, for those).
 */

/** A node not heard from by Redis for this long has no claims any more. */
export const DEFAULT_LEASE_MS = 6_000;
/** How long before its lease's expiry a node that could not renew gives up its sessions. */
const FENCE_MARGIN_MS = 1_000;
/** Departures older than this are forgotten (`presence.recentSeconds` is at most a day). */
const DEPARTED_KEEP_MS = 24 * 3_600_000;
const DEPARTED_MAX = 10_000;
/** Most lookups one `findMany` call carries. */
const MAX_FINDS_PER_CALL = 256;

/**
 * A resume record outlives its node by at most this (it is spent, or found expired, long
 * before): a bound on what a node that died and never came back leaves in Redis.
 */
const RESUME_RECORD_KEEP_MS = 7 * 24 * 3_600_000;

/** Most abandoned sessions one `takeAbandoned` call takes: a script holds Redis while it runs. */
const MAX_ABANDONED_PER_CALL = 200;

interface PendingFind {
  readonly index: 'n' | 'a' | 's';
  readonly key: string;
  readonly resolve: (entry: DirectoryEntry | undefined) => void;
  readonly reject: (error: unknown) => void;
}

export interface RedisDirectoryOptions {
  /** Key prefix shared by the cluster (the bus's). */
  readonly prefix: string;
  /** This node's id. */
  readonly nodeId: string;
  readonly clock: Clock;
  readonly leaseMs?: number;
  /** The lease is lost (cut off too long, or taken): close every session now. */
  readonly onLost?: (reason: string) => void;
  /** The lease is held again after a loss. */
  readonly onRegained?: () => void;
  /**
   * Redis forgot everything (restarted without persistence) while this node held its
   * lease: the lease is taken again, and the node must claim its sessions again.
   */
  readonly onReset?: () => void;
}

/** What `claim` throws while this node holds no lease: it may not hold sessions now. */
function fenced(): ChatError {
  return new ChatError(
    'shutting_down',
    'This server node is cut off from the cluster; connect again to reach another',
  );
}

export class RedisDirectory implements SessionDirectory {
  readonly leaseMs: number;
  private readonly prefix: string;
  private readonly nodeId: string;
  private readonly clock: Clock;
  private readonly token = randomBytes(12).toString('base64url');
  /** Send time of the newest renewal Redis confirmed: the lease holds until this + leaseMs. */
  private confirmedAt = 0;
  private held = false;
  private timer: TimerHandle | null = null;
  private stopped = false;
  private renewing = false;
  /**
   * Sessions of this node id's earlier process (it died, and this one started before their
   * leaves were announced): handed out first by `takeAbandoned`, by this node alone.
   */
  private leftBehind: { key: string; record: ResumeRecord; lastSeen: number }[] = [];
  /** Lookups of this turn, sent together at its end (see `findBy`). */
  private finds: PendingFind[] = [];

  private constructor(
    private readonly redis: Redis,
    private readonly options: RedisDirectoryOptions,
  ) {
    this.prefix = options.prefix;
    this.nodeId = options.nodeId;
    this.clock = options.clock;
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    for (const [name, lua] of Object.entries(DIRECTORY_SCRIPTS))
      redis.defineCommand(`confabDir_${name}`, { numberOfKeys: 0, lua });
  }

  /**
   * Takes this node's lease and starts renewing it. A node id whose lease another process
   * holds is waited for up to one lease time (a node restarted after a crash), then refused.
   */
  static async open(redis: Redis, options: RedisDirectoryOptions): Promise<RedisDirectory> {
    const directory = new RedisDirectory(redis, options);
    const deadline = options.clock.now() + directory.leaseMs + 1_000;
    while (!(await directory.acquire(true))) {
      if (options.clock.now() > deadline)
        throw new Error(`another running node holds the node id "${options.nodeId}"`);
      await new Promise<void>((resolve) => options.clock.setTimeout(resolve, 250));
    }
    directory.schedule();
    return directory;
  }

  /** True while this node may hold sessions (its lease is confirmed and not about to lapse). */
  get holdsLease(): boolean {
    return this.held && this.clock.now() < this.confirmedAt + this.leaseMs - FENCE_MARGIN_MS;
  }

  async claim(entry: DirectoryEntry, replacing?: string): Promise<DirectoryEntry | null> {
    if (!this.holdsLease) throw fenced();
    const [status, holder] = (await this.call(
      'claim',
      JSON.stringify(entry),
      entry.session,
      entry.nickKey,
      entry.accountId === null ? '' : String(entry.accountId),
      replacing ?? '',
      this.nodeId,
      this.token,
    )) as [string, string?];
    if (status === 'fenced') throw fenced();
    return status === 'held' && holder ? (JSON.parse(holder) as DirectoryEntry) : null;
  }

  async rename(session: string, nick: string, nickKey: string): Promise<DirectoryEntry | null> {
    const [status, holder] = (await this.call('rename', session, nick, nickKey)) as [
      string,
      string?,
    ];
    return status === 'held' && holder ? (JSON.parse(holder) as DirectoryEntry) : null;
  }

  async release(session: string): Promise<void> {
    await this.call('release', session);
  }

  async releaseFrom(session: string, node: string): Promise<boolean> {
    return Number(await this.call('releaseFrom', session, node)) === 1;
  }

  find(nickKey: string): Promise<DirectoryEntry | undefined> {
    return this.findBy('n', nickKey);
  }

  findSession(session: string): Promise<DirectoryEntry | undefined> {
    return this.findBy('s', session);
  }

  findAccount(accountId: number): Promise<DirectoryEntry | undefined> {
    return this.findBy('a', String(accountId));
  }

  async list(): Promise<readonly DirectoryEntry[]> {
    const rows = (await this.call('list')) as string[];
    return rows.map((row) => JSON.parse(row) as DirectoryEntry);
  }

  async forgetNode(node: string): Promise<number> {
    return Number(await this.call('forget', node));
  }

  async recordDeparture(departure: Departure): Promise<void> {
    await this.call(
      'depart',
      departure.key,
      JSON.stringify(departure),
      String(departure.lastSeen),
      String(departure.lastSeen - DEPARTED_KEEP_MS),
      String(DEPARTED_MAX),
    );
  }

  async departures(since: number): Promise<readonly Departure[]> {
    const keys = await this.redis.zrevrangebyscore(`${this.prefix}departed`, '+inf', since);
    if (keys.length === 0) return [];
    const rows = await this.redis.hmget(`${this.prefix}departed:info`, ...keys);
    return rows.flatMap((row) => (row ? [JSON.parse(row) as Departure] : []));
  }

  async departure(key: string): Promise<Departure | undefined> {
    const row = await this.redis.hget(`${this.prefix}departed:info`, key);
    return row ? (JSON.parse(row) as Departure) : undefined;
  }

  async saveResume(tokenKey: string, record: ResumeRecord, previousKey?: string): Promise<void> {
    await this.call(
      'saveResume',
      tokenKey,
      JSON.stringify(record),
      record.node,
      previousKey ?? '',
      String(RESUME_RECORD_KEEP_MS),
    );
  }

  async dropResume(tokenKey: string): Promise<void> {
    await this.call('dropResume', tokenKey);
  }

  async takeResume(tokenKey: string, graceMs: number): Promise<TakenResume | undefined> {
    const taken = (await this.call(
      'takeResume',
      tokenKey,
      String(graceMs),
      String(this.leaseMs),
    )) as [string, string?, number?] | null;
    if (!taken || taken[0] !== 'ok') return undefined;
    return { record: JSON.parse(taken[1]!) as ResumeRecord, nodeAlive: taken[2] === 1 };
  }

  async takeAbandoned(graceMs: number): Promise<readonly AbandonedSession[]> {
    if (this.leftBehind.length > 0) {
      const batch = this.leftBehind.splice(0, MAX_ABANDONED_PER_CALL);
      // Their entries went when this process took the lease: any holder is someone else.
      const holders = await Promise.all(batch.map(({ record }) => this.find(record.nickKey)));
      return batch.map(({ key, record, lastSeen }, i) => ({
        key,
        record,
        lastSeen,
        goneAt: lastSeen + this.leaseMs,
        nickHeld: holders[i] !== undefined,
      }));
    }
    const rows = (await this.call(
      'takeAbandoned',
      String(graceMs),
      String(this.leaseMs),
      String(MAX_ABANDONED_PER_CALL),
      this.nodeId,
      this.token,
    )) as [string, string, number, number][];
    return rows.map(([key, json, lastSeen, held]) => ({
      key,
      record: JSON.parse(json) as ResumeRecord,
      lastSeen: Number(lastSeen),
      // Its lease lived `leaseMs` past its last renewal (both on Redis's clock).
      goneAt: Number(lastSeen) + this.leaseMs,
      nickHeld: Number(held) === 1,
    }));
  }

  async finishAbandoned(keys: readonly string[]): Promise<void> {
    if (keys.length > 0) await this.call('finishAbandoned', this.token, ...keys);
  }

  async nodeAlive(node: string): Promise<boolean> {
    return (await this.redis.exists(`${this.prefix}lease:${node}`)) === 1;
  }

  /** Stops renewing and gives the lease up: this node's claims end at once. */
  async close(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = null;
    if (this.redis.status !== 'ready') return;
    await this.forgetNode(this.nodeId).catch(() => undefined);
    await this.call('resign', this.nodeId, this.token).catch(() => undefined);
  }

  /**
   * Lookups are batched: those made in one turn of the event loop (every private message
   * to another node's user makes one) go as one script call at the turn's end, one round
   * trip and one socket write however many, rather than a command apiece.
   */
  private findBy(index: 'n' | 'a' | 's', key: string): Promise<DirectoryEntry | undefined> {
    return new Promise((resolve, reject) => {
      const waiting = this.finds.push({ index, key, resolve, reject });
      if (waiting === 1) setImmediate(() => this.sendFinds());
      // A script call holds Redis while it runs: a batch stays short.
      else if (waiting >= MAX_FINDS_PER_CALL) this.sendFinds();
    });
  }

  private sendFinds(): void {
    const batch = this.finds;
    if (batch.length === 0) return;
    this.finds = [];
    this.call('findMany', ...batch.flatMap((find) => [find.index, find.key])).then(
      (rows) => {
        batch.forEach((find, i) => {
          const row = (rows as (string | null)[])[i];
          find.resolve(row ? (JSON.parse(row) as DirectoryEntry) : undefined);
        });
      },
      (error: unknown) => {
        for (const find of batch) find.reject(error);
      },
    );
  }

  /**
   * Takes the lease. At start (`keepLeftBehind`), the resume records an earlier process of
   * this node id left (it died) are kept for `takeAbandoned`; after a loss, this process
   * ended those sessions itself, leaves announced, and they are only removed.
   */
  private async acquire(keepLeftBehind = false): Promise<boolean> {
    const sentAt = this.clock.now();
    const [taken, lastSeen, ...records] = (await this.call(
      'acquire',
      this.nodeId,
      this.token,
      String(this.leaseMs),
      keepLeftBehind ? '1' : '0',
    )) as [number, number?, ...string[]];
    if (Number(taken) !== 1) return false;
    this.confirmedAt = sentAt;
    this.held = true;
    for (let i = 0; i + 1 < records.length; i += 2)
      this.leftBehind.push({
        key: records[i]!,
        record: JSON.parse(records[i + 1]!) as ResumeRecord,
        lastSeen: Number(lastSeen),
      });
    return true;
  }

  /** Renews every third of the lease; checks for a lapse every 250 ms. */
  private schedule(): void {
    const tick = Math.min(250, Math.floor(this.leaseMs / 6));
    let sinceRenewal = 0;
    const step = () => {
      if (this.stopped) return;
      sinceRenewal += tick;
      if (this.held && !this.holdsLease) this.lose('no renewal confirmed in time');
      if (sinceRenewal >= this.leaseMs / 3 && !this.renewing) {
        sinceRenewal = 0;
        void this.renew();
      }
      this.timer = this.clock.setTimeout(step, tick);
    };
    this.timer = this.clock.setTimeout(step, tick);
  }

  private async renew(): Promise<void> {
    this.renewing = true;
    try {
      if (!this.held) {
        // Lost earlier: take it again (the script first removes what this node left).
        if (await this.acquire()) this.options.onRegained?.();
        return;
      }
      const sentAt = this.clock.now();
      const renewed =
        Number(await this.call('renew', this.nodeId, this.token, String(this.leaseMs))) === 1;
      if (renewed) {
        if (this.held) this.confirmedAt = Math.max(this.confirmedAt, sentAt);
        return;
      }
      // Gone from Redis while this node still counts it valid: Redis restarted empty (or
      // was flushed), and every claim went with it. Take the lease again at once and
      // claim this node's sessions again (`onReset`), rather than drop them all.
      if (this.holdsLease && (await this.acquire())) {
        this.options.onReset?.();
        return;
      }
      this.lose('the lease expired in Redis');
    } catch {
      // Redis away: the lapse check above decides when this becomes a loss.
    } finally {
      this.renewing = false;
    }
  }

  private lose(reason: string): void {
    if (!this.held) return;
    this.held = false;
    this.options.onLost?.(reason);
  }

  private call(name: DirectoryScript, ...args: string[]): Promise<unknown> {
    const command = (this.redis as unknown as Record<string, (...a: string[]) => Promise<unknown>>)[
      `confabDir_${name}`
    ];
    if (!command) throw new Error(`script ${name} is not defined`);
    return command.call(this.redis, this.prefix, ...args);
  }
}
