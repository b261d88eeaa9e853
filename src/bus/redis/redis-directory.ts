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

/**
 * The session directory of a cluster, in Redis: one record of who holds which nickname
 * and which account, shared by every node.
 *
 * Leases. Every entry belongs to a node, and a node's entries count only while that node
 * holds its lease: a key `lease:<node>` with a time to live (`leaseMs`, 6 s by default)
 * that the node renews every third of it. A node that dies stops renewing; once the lease
 * expires, its claims are dead everywhere at once, with nothing to clean up first (every
 * script below checks the holder's lease). So a dead node's nicknames and account
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

/** Drops one session's entry and its indexes, where they still point at it. */
const LUA_COMMON = `
local P = ARGV[1]
local S, N, A = P .. 'dir:s', P .. 'dir:n', P .. 'dir:a'
local function alive(node) return redis.call('EXISTS', P .. 'lease:' .. node) == 1 end
local function drop(id)
  local json = redis.call('HGET', S, id)
  if not json then return 0 end
  local e = cjson.decode(json)
  redis.call('HDEL', S, id)
  if redis.call('HGET', N, e.nickKey) == id then redis.call('HDEL', N, e.nickKey) end
  if e.accountId ~= cjson.null then
    local a = tostring(e.accountId)
    if redis.call('HGET', A, a) == id then redis.call('HDEL', A, a) end
  end
  redis.call('SREM', P .. 'dir:node:' .. e.node, id)
  return 1
end
-- The live entry of session id, or nil (an entry of a node without a lease is dead).
local function live(id)
  if not id then return nil end
  local json = redis.call('HGET', S, id)
  if not json then return nil end
  if not alive(cjson.decode(json).node) then return nil end
  return json
end
`;

/** ARGV: prefix, entry JSON, session, nickKey, accountId or '', replacing or '', node, token. */
const LUA_CLAIM = `${LUA_COMMON}
local entry, sid, key, acct, replacing, node, token =
  ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
if redis.call('GET', P .. 'lease:' .. node) ~= token then return {'fenced'} end
local holder = redis.call('HGET', N, key)
if holder and holder ~= sid then
  local json = live(holder)
  if json and holder ~= replacing then return {'held', json} end
  drop(holder)
  redis.call('HDEL', N, key)
end
drop(sid)
redis.call('HSET', S, sid, entry)
redis.call('HSET', N, key, sid)
if acct ~= '' then redis.call('HSET', A, acct, sid) end
redis.call('SADD', P .. 'dir:node:' .. node, sid)
return {'ok'}
`;

/** ARGV: prefix, session, nick, nickKey. */
const LUA_RENAME = `${LUA_COMMON}
local sid, nick, key = ARGV[2], ARGV[3], ARGV[4]
local json = redis.call('HGET', S, sid)
if not json then return {'ok'} end
local holder = redis.call('HGET', N, key)
if holder and holder ~= sid then
  local held = live(holder)
  if held then return {'held', held} end
  drop(holder)
  redis.call('HDEL', N, key)
end
local e = cjson.decode(json)
if redis.call('HGET', N, e.nickKey) == sid then redis.call('HDEL', N, e.nickKey) end
e.nick = nick
e.nickKey = key
redis.call('HSET', S, sid, cjson.encode(e))
redis.call('HSET', N, key, sid)
return {'ok'}
`;

/** ARGV: prefix, session. */
const LUA_RELEASE = `${LUA_COMMON}
return drop(ARGV[2])
`;

/** ARGV: prefix, session, node. Drops the entry only while it names that node. */
const LUA_RELEASE_FROM = `${LUA_COMMON}
local json = redis.call('HGET', S, ARGV[2])
if not json or cjson.decode(json).node ~= ARGV[3] then return 0 end
return drop(ARGV[2])
`;

/** ARGV: prefix, then (index, key) pairs. The live entry for each pair, or nil. */
const LUA_FIND_MANY = `${LUA_COMMON}
local out = {}
for i = 2, #ARGV, 2 do
  local index, key = ARGV[i], ARGV[i + 1]
  local found
  if index == 's' then found = live(key)
  else found = live(redis.call('HGET', P .. 'dir:' .. index, key)) end
  out[#out + 1] = found or false
end
return out
`;

/** ARGV: prefix. Every live entry. */
const LUA_LIST = `${LUA_COMMON}
local out, known = {}, {}
local all = redis.call('HGETALL', S)
for i = 2, #all, 2 do
  local node = cjson.decode(all[i]).node
  if known[node] == nil then known[node] = alive(node) end
  if known[node] then out[#out + 1] = all[i] end
end
return out
`;

/** ARGV: prefix, node. */
const LUA_FORGET = `${LUA_COMMON}
local set = P .. 'dir:node:' .. ARGV[2]
local removed = 0
for _, id in ipairs(redis.call('SMEMBERS', set)) do removed = removed + drop(id) end
redis.call('DEL', set)
return removed
`;

/**
 * ARGV: prefix, node, token, ttl, keep ('1' or '0'). Takes the node's lease if no other
 * process holds it, after removing every entry and resume record of this node id: a node
 * acquires at start and after a loss, both times holding no session. {0} when another
 * process holds it; else {1, the id's previous last renewal, then, with keep, each record
 * removed as its key and JSON} (at start: sessions of this id's earlier process, which
 * died, that nobody will resume now, whose leaves are still to be announced). Those are
 * taken as `takeAbandoned` takes them, by this process's token: another node takes them
 * again if this process dies before it finishes them.
 */
const LUA_ACQUIRE = `${LUA_COMMON}
local node, token, ttl, keep = ARGV[2], ARGV[3], ARGV[4], ARGV[5] == '1'
local lease = P .. 'lease:' .. node
local current = redis.call('GET', lease)
if current and current ~= token then return {0} end
local set = P .. 'dir:node:' .. node
for _, id in ipairs(redis.call('SMEMBERS', set)) do drop(id) end
redis.call('DEL', set)
local seen = tonumber(redis.call('GET', P .. 'seen:' .. node) or '0')
local out = {1, seen}
-- Its sessions are gone with the process that held them: nothing to resume either.
local records = P .. 'rs:node:' .. node
for _, key in ipairs(redis.call('SMEMBERS', records)) do
  local json = redis.call('GET', P .. 'rs:' .. key)
  if keep and json then
    out[#out + 1] = key
    out[#out + 1] = json
    redis.call('HSET', P .. 'ab:taken:' .. token, key, cjson.encode({seen, json}))
    redis.call('HSET', P .. 'ab:takers', token, node)
  end
  redis.call('DEL', P .. 'rs:' .. key)
end
redis.call('DEL', records)
redis.call('SET', lease, token, 'PX', ttl)
local t = redis.call('TIME')
redis.call('SET', P .. 'seen:' .. node, tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
return out
`;

/** ARGV: prefix, node, token, ttl. 1 when renewed, 0 when the lease was lost. */
const LUA_RENEW = `
local lease = ARGV[1] .. 'lease:' .. ARGV[2]
if redis.call('GET', lease) ~= ARGV[3] then return 0 end
redis.call('PEXPIRE', lease, ARGV[4])
-- When it was last known alive, for resumes of its sessions after it dies.
local t = redis.call('TIME')
redis.call('SET', ARGV[1] .. 'seen:' .. ARGV[2], tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
return 1
`;

/** ARGV: prefix, node, token. */
const LUA_RESIGN = `
local lease = ARGV[1] .. 'lease:' .. ARGV[2]
if redis.call('GET', lease) == ARGV[3] then redis.call('DEL', lease) end
return 1
`;

/** ARGV: prefix, key, departure JSON, at, oldest kept, most kept. */
const LUA_DEPART = `
local Z, H = ARGV[1] .. 'departed', ARGV[1] .. 'departed:info'
redis.call('ZADD', Z, ARGV[4], ARGV[2])
redis.call('HSET', H, ARGV[2], ARGV[3])
local old = redis.call('ZRANGEBYSCORE', Z, '-inf', '(' .. ARGV[5])
local over = redis.call('ZCARD', Z) - tonumber(ARGV[6])
if over > 0 then
  for _, k in ipairs(redis.call('ZRANGE', Z, 0, over - 1)) do old[#old + 1] = k end
end
for _, k in ipairs(old) do
  redis.call('ZREM', Z, k)
  redis.call('HDEL', H, k)
end
return 1
`;

/**
 * A resume record outlives its node by at most this (it is spent, or found expired, long
 * before): a bound on what a node that died and never came back leaves in Redis.
 */
const RESUME_RECORD_KEEP_MS = 7 * 24 * 3_600_000;

/** ARGV: prefix, token hash, record JSON, node, previous token hash or '', keep ms. */
const LUA_SAVE_RESUME = `
local P, key, record, node, previous = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
if previous ~= '' then
  redis.call('DEL', P .. 'rs:' .. previous)
  redis.call('SREM', P .. 'rs:node:' .. node, previous)
end
redis.call('SET', P .. 'rs:' .. key, record, 'PX', ARGV[6])
redis.call('SADD', P .. 'rs:node:' .. node, key)
redis.call('SADD', P .. 'rs:nodes', node)
return 1
`;

/** ARGV: prefix, token hash. */
const LUA_DROP_RESUME = `
local P, key = ARGV[1], ARGV[2]
local json = redis.call('GET', P .. 'rs:' .. key)
if not json then return 0 end
redis.call('DEL', P .. 'rs:' .. key)
redis.call('SREM', P .. 'rs:node:' .. cjson.decode(json).node, key)
return 1
`;

/**
 * ARGV: prefix, token hash, grace ms, lease ms. Spends the token: {'ok', record, alive}
 * (alive 1 while its node holds a lease), {'expired'} when the node died longer ago than
 * the grace period (its last renewal, plus the lease it had left, plus the grace), or
 * nothing when unknown. Times are Redis's own, so nodes' clocks need not agree.
 */
const LUA_TAKE_RESUME = `
local P, key = ARGV[1], ARGV[2]
local json = redis.call('GET', P .. 'rs:' .. key)
if not json then return false end
local node = cjson.decode(json).node
redis.call('DEL', P .. 'rs:' .. key)
redis.call('SREM', P .. 'rs:node:' .. node, key)
if redis.call('EXISTS', P .. 'lease:' .. node) == 1 then return {'ok', json, 1} end
local seen = tonumber(redis.call('GET', P .. 'seen:' .. node) or '0')
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if now - seen > tonumber(ARGV[3]) + tonumber(ARGV[4]) then return {'expired'} end
return {'ok', json, 0}
`;

/** Most abandoned sessions one `takeAbandoned` call takes: a script holds Redis while it runs. */
const MAX_ABANDONED_PER_CALL = 200;

/**
 * ARGV: prefix, grace ms, lease ms, most taken, node, token. For every node that wrote
 * resume records and is dead past the window `takeResume` allows (no lease, last renewal
 * more than lease + grace ago, on Redis's clock): removes its records and returns them as
 * {key, record, last renewal, 1 if a live session holds the nickname now}, then drops its
 * directory entries and forgets the node. Atomic, so each record goes to one caller; a
 * resume that spent its token first took the record away, and after this its token is
 * refused. Each record taken is kept in `ab:taken:<token>` (the caller's lease token;
 * `ab:takers` maps each such token to its node) until the caller finishes it
 * (`LUA_FINISH_ABANDONED`); a taker whose lease no longer holds that token died (or was
 * fenced) before announcing them, and its records are taken first, as they were. Only a
 * caller holding its lease takes anything.
 */
const LUA_TAKE_ABANDONED = `${LUA_COMMON}
local grace, lease, most = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local me, token = ARGV[5], ARGV[6]
if redis.call('GET', P .. 'lease:' .. me) ~= token then return {} end
local T, mine = P .. 'ab:takers', P .. 'ab:taken:' .. token
local out = {}
local function take(key, seen, json)
  redis.call('HSET', mine, key, cjson.encode({seen, json}))
  local held = live(redis.call('HGET', N, cjson.decode(json).nickKey)) and 1 or 0
  out[#out + 1] = {key, json, seen, held}
end
local takers = redis.call('HGETALL', T)
for i = 1, #takers, 2 do
  if #out >= most then break end
  local other, node = takers[i], takers[i + 1]
  if other ~= token and redis.call('GET', P .. 'lease:' .. node) ~= other then
    local theirs = P .. 'ab:taken:' .. other
    local rows = redis.call('HGETALL', theirs)
    for j = 1, #rows, 2 do
      if #out >= most then break end
      local row = cjson.decode(rows[j + 1])
      redis.call('HDEL', theirs, rows[j])
      take(rows[j], row[1], row[2])
    end
    if redis.call('EXISTS', theirs) == 0 then redis.call('HDEL', T, other) end
  end
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for _, node in ipairs(redis.call('SMEMBERS', P .. 'rs:nodes')) do
  if #out >= most then break end
  local seen = tonumber(redis.call('GET', P .. 'seen:' .. node) or '0')
  if not alive(node) and now - seen > grace + lease then
    local records = P .. 'rs:node:' .. node
    for _, key in ipairs(redis.call('SMEMBERS', records)) do
      if #out >= most then break end
      redis.call('SREM', records, key)
      local json = redis.call('GET', P .. 'rs:' .. key)
      if json then
        redis.call('DEL', P .. 'rs:' .. key)
        take(key, seen, json)
      end
    end
    if redis.call('SCARD', records) == 0 then
      local set = P .. 'dir:node:' .. node
      for _, id in ipairs(redis.call('SMEMBERS', set)) do drop(id) end
      redis.call('DEL', set)
      redis.call('SREM', P .. 'rs:nodes', node)
    end
  end
end
if #out > 0 then redis.call('HSET', T, token, me) end
return out
`;

/** ARGV: prefix, token, then the keys of records that token's taker has announced. */
const LUA_FINISH_ABANDONED = `
local P, token = ARGV[1], ARGV[2]
local mine = P .. 'ab:taken:' .. token
for i = 3, #ARGV do redis.call('HDEL', mine, ARGV[i]) end
if redis.call('EXISTS', mine) == 0 then redis.call('HDEL', P .. 'ab:takers', token) end
return 1
`;

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

type ScriptName =
  | 'claim'
  | 'rename'
  | 'release'
  | 'releaseFrom'
  | 'findMany'
  | 'list'
  | 'forget'
  | 'acquire'
  | 'renew'
  | 'resign'
  | 'depart'
  | 'saveResume'
  | 'dropResume'
  | 'takeResume'
  | 'takeAbandoned'
  | 'finishAbandoned';

const SCRIPTS: Record<ScriptName, string> = {
  claim: LUA_CLAIM,
  rename: LUA_RENAME,
  release: LUA_RELEASE,
  releaseFrom: LUA_RELEASE_FROM,
  findMany: LUA_FIND_MANY,
  list: LUA_LIST,
  forget: LUA_FORGET,
  acquire: LUA_ACQUIRE,
  renew: LUA_RENEW,
  resign: LUA_RESIGN,
  depart: LUA_DEPART,
  saveResume: LUA_SAVE_RESUME,
  dropResume: LUA_DROP_RESUME,
  takeResume: LUA_TAKE_RESUME,
  takeAbandoned: LUA_TAKE_ABANDONED,
  finishAbandoned: LUA_FINISH_ABANDONED,
};

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
    for (const [name, lua] of Object.entries(SCRIPTS))
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

  private call(name: ScriptName, ...args: string[]): Promise<unknown> {
    const command = (this.redis as unknown as Record<string, (...a: string[]) => Promise<unknown>>)[
      `confabDir_${name}`
    ];
    if (!command) throw new Error(`script ${name} is not defined`);
    return command.call(this.redis, this.prefix, ...args);
  }
}
