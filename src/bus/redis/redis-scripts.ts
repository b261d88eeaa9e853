// The Lua scripts of the Redis session directory (redis-directory.ts), one per operation.
// Redis runs each script alone, start to end, with no other command in between: each is one
// atomic step of the directory, and the comment above each says what that step guarantees.
// Every script takes the key prefix as ARGV[1]; the others are listed with each.

/**
 * Shared by the scripts that read entries. `drop` removes one session's entry and its
 * indexes only where they still point at it (never a newer holder's); `live` treats the
 * entry of a node without a lease as absent, so a dead node's claims end everywhere the
 * moment its lease expires, with nothing to clean up first.
 */
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

/**
 * ARGV: prefix, entry JSON, session, nickKey, accountId or '', replacing or '', node, token.
 * A nickname key is held by at most one live session: the claim takes it only when nobody
 * holds it, its holder is dead (no lease) or is `replacing` (a takeover), and only while
 * the caller holds its lease under this token (a fenced node claims nothing). {'ok'},
 * {'held', holder's entry} or {'fenced'}.
 */
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

/**
 * ARGV: prefix, session, nick, nickKey. Moves a session to another key under the claim's
 * rule (never onto a key a live session holds); its old key goes only if it still names
 * this session. {'ok'} (also when the session has no entry) or {'held', holder's entry}.
 */
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

/**
 * ARGV: prefix, session. Removes its entry; a key or account a newer claim took from it
 * stays with that holder. 1 when there was an entry.
 */
const LUA_RELEASE = `${LUA_COMMON}
return drop(ARGV[2])
`;

/**
 * ARGV: prefix, session, node. Compare-and-set: drops the entry only while it still names
 * that node, so a late hand-over's release never removes a claim made elsewhere since.
 */
const LUA_RELEASE_FROM = `${LUA_COMMON}
local json = redis.call('HGET', S, ARGV[2])
if not json or cjson.decode(json).node ~= ARGV[3] then return 0 end
return drop(ARGV[2])
`;

/**
 * ARGV: prefix, then (index, key) pairs (index `s` session, `n` nickname key, `a`
 * account). The live entry for each pair, or false, all as of one instant.
 */
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

/** ARGV: prefix. Every live entry as of one instant (a dead node's are left out). */
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

/** ARGV: prefix, node. Removes every entry of the node (it stopped); how many. */
const LUA_FORGET = `${LUA_COMMON}
local set = P .. 'dir:node:' .. ARGV[2]
local removed = 0
for _, id in ipairs(redis.call('SMEMBERS', set)) do removed = removed + drop(id) end
redis.call('DEL', set)
return removed
`;

/**
 * ARGV: prefix, node, token, ttl, keep ('1' or '0'). One process per node id holds the
 * lease: takes it only if no other process holds it, after removing every entry and resume record of this node id: a node
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

/**
 * ARGV: prefix, node, token, ttl. Extends the lease only while it still holds this
 * process's token (one lost, or taken by another process of the id, is never renewed), and
 * records Redis's time of it in `seen:<node>`: the node's last sign of life, kept after it
 * dies. 1 when renewed, 0 when the lease was lost.
 */
const LUA_RENEW = `
local lease = ARGV[1] .. 'lease:' .. ARGV[2]
if redis.call('GET', lease) ~= ARGV[3] then return 0 end
redis.call('PEXPIRE', lease, ARGV[4])
-- When it was last known alive, for resumes of its sessions after it dies.
local t = redis.call('TIME')
redis.call('SET', ARGV[1] .. 'seen:' .. ARGV[2], tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
return 1
`;

/** ARGV: prefix, node, token. Gives the lease up only while it is this process's. */
const LUA_RESIGN = `
local lease = ARGV[1] .. 'lease:' .. ARGV[2]
if redis.call('GET', lease) == ARGV[3] then redis.call('DEL', lease) end
return 1
`;

/**
 * ARGV: prefix, key, departure JSON, at, oldest kept, most kept. Records the departure
 * (the newest per key) and, in the same step, forgets those older than the oldest kept or
 * past the most kept: the set never grows past its bound.
 */
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
 * ARGV: prefix, token hash, record JSON, node, previous token hash or '', keep ms. Writes
 * the record and removes the previous token's in one step, so a renewed token's
 * predecessor resumes nothing from then on; indexes it under its node for `takeAbandoned`.
 */
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

/** ARGV: prefix, token hash. Removes the record and its node's index of it (the session ended). */
const LUA_DROP_RESUME = `
local P, key = ARGV[1], ARGV[2]
local json = redis.call('GET', P .. 'rs:' .. key)
if not json then return 0 end
redis.call('DEL', P .. 'rs:' .. key)
redis.call('SREM', P .. 'rs:node:' .. cjson.decode(json).node, key)
return 1
`;

/**
 * ARGV: prefix, token hash, grace ms, lease ms. Spends the token (of two resumes with one
 * token, on any nodes, one gets the record): {'ok', record, alive}
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

/**
 * ARGV: prefix, token, then the keys of records that token's taker has announced: nobody
 * takes them again. Keys another node took again meanwhile (it counted this taker dead)
 * are no longer under this token, and are left to that node.
 */
const LUA_FINISH_ABANDONED = `
local P, token = ARGV[1], ARGV[2]
local mine = P .. 'ab:taken:' .. token
for i = 3, #ARGV do redis.call('HDEL', mine, ARGV[i]) end
if redis.call('EXISTS', mine) == 0 then redis.call('HDEL', P .. 'ab:takers', token) end
return 1
`;

export type DirectoryScript =
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

export const DIRECTORY_SCRIPTS: Record<DirectoryScript, string> = {
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
