import { z } from 'zod';
import type { ErrorCode } from './errors.js';

/**
 * The typed result of every command: a schema for the `data` of each `ok` reply. The
 * contract test (test/protocol-contract.test.ts) sends every command to a real server and
 * holds each reply to its schema, and docs/protocol.md describes the same fields. The
 * schemas are strict: a field the server adds must be added here (and documented) first.
 *
 * Kept out of `index.ts` on purpose (only the types are re-exported there): the browser
 * bundle imports the protocol module, and these schemas would pull zod into it.
 */

const nick = z.string().min(1);
const millis = z.number().int().nonnegative();
const count = z.number().int().nonnegative();
const role = z.enum(['guest', 'user', 'admin']);
const empty = z.strictObject({});

/** After the nickname step: who you are now (`nick`, `resume`). */
const ready = {
  nick,
  session: z.string().min(1),
  account: z.boolean(),
  role,
  resumeToken: z.string().length(24),
};

const failedLogin = z.strictObject({ address: z.string(), count, lastAt: millis });

const nickReply = z.union([
  // The login: with a password, also the failed attempts since the last login.
  z.strictObject({ ...ready, failedLogins: z.array(failedLogin).optional() }),
  // A guest's rename after login: no new token.
  z.strictObject({ nick, session: z.string().min(1), account: z.literal(false), role }),
]);

const sent = z.strictObject({ mid: z.number().int().positive(), ts: millis });

const userLine = z.strictObject({
  nick,
  session: z.string(),
  status: z.enum(['active', 'idle', 'away', 'suspended']),
  role,
  account: z.boolean(),
  since: millis,
  idleSeconds: count,
  /** While an away message is set (`away`). */
  awayMessage: z.string().optional(),
});

const whoisReply = z.union([
  userLine.extend({
    online: z.literal(true),
    lastSeen: millis,
    rooms: z.array(z.string()),
    /** To admins only: the address the session connects from; null while it has no connection. */
    address: z.string().nullable().optional(),
  }),
  z.strictObject({
    nick,
    online: z.literal(false),
    account: z.boolean(),
    role,
    lastSeen: millis.nullable(),
    rooms: z.array(z.string()),
  }),
]);

const storedMessage = z.strictObject({
  mid: z.number().int().positive(),
  ts: millis,
  from: nick,
  to: z.array(nick),
  text: z.string(),
  read: z.boolean(),
});

const roomInfo = z.strictObject({
  room: z.string(),
  owner: nick.nullable(),
  topic: z.string().nullable(),
  /** Members online. */
  members: count,
});

const fileEntry = z.strictObject({
  file: z.string().regex(/^f\d+$/),
  name: z.string(),
  size: count,
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  from: nick,
  to: nick.optional(),
  at: millis,
  expiresAt: millis,
});
const fileList = z.strictObject({
  waiting: z.array(fileEntry),
  sent: z.array(fileEntry),
  shared: z.array(fileEntry),
});
const transferId = z.string().regex(/^t\d+$/);
const uploadStarted = z.strictObject({
  transfer: transferId,
  file: z.string().regex(/^f\d+$/),
  name: z.string(),
  size: count,
  offset: count,
  chunkBytes: z.number().int().positive(),
  window: z.number().int().positive(),
});
const downloadStarted = z.strictObject({
  transfer: transferId,
  file: z.string().regex(/^f\d+$/),
  name: z.string(),
  size: count,
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  from: nick,
  offset: count,
  chunkBytes: z.number().int().positive(),
});
const fileGone = z.strictObject({ file: z.string(), name: z.string() });

const escalation = z
  .union([
    z.strictObject({ step: z.literal('suspended'), until: millis }),
    z.strictObject({ step: z.literal('banned'), until: millis.nullable() }),
  ])
  .nullable();

const parameter = z.strictObject({
  key: z.string(),
  value: z.union([z.number(), z.string(), z.boolean()]),
  source: z.string(),
  default: z.union([z.number(), z.string(), z.boolean()]),
  kind: z.enum(['integer', 'seconds', 'bytes', 'boolean']),
  min: z.number().optional(),
  max: z.number().optional(),
  description: z.string(),
});

const paramInfo = z.looseObject({ name: z.string(), type: z.string(), optional: z.boolean() });
const commandInfo = z.looseObject({
  name: z.string(),
  aliases: z.array(z.string()),
  bare: z.array(z.string()),
  args: z.array(z.looseObject({ name: z.string(), kind: z.string() })),
  params: z.array(paramInfo),
  summary: z.string(),
  admin: z.boolean(),
  group: z.string(),
});

export const REPLY_SCHEMAS = {
  // session
  nick: nickReply,
  resume: z.strictObject({ ...ready, resumed: z.literal(true) }),
  ping: empty,
  hello: z.strictObject({
    protocol: z.number().int().positive(),
    capabilities: z.array(z.string()),
  }),
  catalogue: z.strictObject({
    hash: z.string().regex(/^[0-9a-f]{32}$/),
    commands: z.array(commandInfo),
  }),
  quit: empty,
  // accounts
  register: z.strictObject({ nick, account: z.literal(true), role }),
  deregister: z.strictObject({ nick, account: z.literal(false), role }),
  passwd: z.strictObject({ changed: z.literal(true) }),
  lockouts: z.strictObject({
    pairs: z.array(z.strictObject({ nick, address: z.string(), secondsLeft: count })),
    addresses: z.array(
      z.strictObject({ address: z.string(), failures: count, secondsLeft: count }),
    ),
  }),
  // messaging
  say: sent,
  broadcast: sent,
  msg: sent.extend({
    delivered: z.array(nick),
    stored: z.array(nick),
    unknown: z.array(z.string()),
    full: z.array(nick),
  }),
  inbox: z.strictObject({ messages: z.array(storedMessage), unread: count }),
  // presence
  who: z.strictObject({ users: z.array(userLine) }),
  whoelse: z.strictObject({ users: z.array(userLine) }),
  wholasthr: z.strictObject({
    seen: z.array(
      z.strictObject({ nick, online: z.boolean(), account: z.boolean(), lastSeen: millis }),
    ),
    windowSeconds: z.number().int().positive(),
  }),
  whois: whoisReply,
  away: z.strictObject({ away: z.string().nullable() }),
  // rooms
  create: roomInfo,
  join: roomInfo,
  leave: z.strictObject({ room: z.string() }),
  close: z.strictObject({ room: z.string() }),
  remove: z.strictObject({ room: z.string(), nick }),
  rooms: z.strictObject({
    rooms: z.array(
      z.strictObject({
        name: z.string(),
        owner: nick.nullable(),
        members: count,
        accounts: count,
        topic: z.string().nullable(),
        persistent: z.boolean(),
        joined: z.boolean(),
      }),
    ),
  }),
  members: z.strictObject({
    room: z.string(),
    owner: nick.nullable(),
    members: z.array(z.strictObject({ nick, online: z.boolean(), owner: z.boolean() })),
  }),
  topic: z.strictObject({ room: z.string(), topic: z.string().nullable() }),
  history: z.strictObject({
    room: z.string(),
    messages: z.array(
      z.strictObject({
        mid: z.number().int().positive(),
        ts: millis,
        from: nick,
        text: z.string(),
      }),
    ),
    more: z.boolean(),
  }),
  // blocking
  block: z.strictObject({ blocked: nick }),
  unblock: z.strictObject({ unblocked: nick }),
  blocked: z.strictObject({ blocked: z.array(nick) }),
  // flood control
  exempt: z.strictObject({ nick, exempt: z.literal(true) }),
  unexempt: z.strictObject({ nick, exempt: z.literal(false) }),
  // files
  send: uploadStarted,
  upload: uploadStarted,
  files: fileList,
  /** With neither `from` nor `file`, `get` lists files as `files` does. */
  get: z.union([downloadStarted, fileList]),
  download: downloadStarted,
  decline: fileGone,
  unshare: fileGone,
  filechunk: z.strictObject({ received: count }),
  filedone: z.union([
    z.strictObject({
      file: z.string(),
      name: z.string(),
      size: count,
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
    }),
    // A download's end: only the file.
    z.strictObject({ file: z.string() }),
  ]),
  filecredit: empty,
  filecancel: empty,
  fileresume: uploadStarted,
  /** A short-lived HTTP link: for an upload of yours, or to fetch a file. */
  filelink: z.union([
    z.strictObject({
      token: z.string().min(1),
      expiresAt: millis,
      transfer: transferId,
      size: count,
      offset: count,
    }),
    z.strictObject({
      token: z.string().min(1),
      expiresAt: millis,
      file: z.string().regex(/^f\d+$/),
      name: z.string(),
      size: count,
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
      from: nick,
    }),
  ]),
  // administration
  kick: z.strictObject({ nick }),
  ban: z.strictObject({
    nick,
    until: millis.nullable(),
    address: z.string().nullable(),
    reason: z.string().nullable(),
    /** Others online from a banned address: they stay, but cannot log in again. */
    sharing: z.array(nick),
  }),
  unban: z.strictObject({ nick }),
  bans: z.strictObject({
    bans: z.array(
      z.strictObject({
        nick,
        address: z.string().nullable(),
        reason: z.string().nullable(),
        since: millis,
        until: millis.nullable(),
        by: nick,
      }),
    ),
  }),
  suspend: z.strictObject({ nick, suspended: z.literal(true), escalation }),
  forgive: z.strictObject({ nick, suspended: z.literal(false) }),
  lock: z.strictObject({ locked: z.literal(true) }),
  unlock: z.strictObject({ locked: z.literal(false) }),
  announce: empty,
  monitor: z.strictObject({ monitor: z.boolean() }),
  warn: z.strictObject({ nick, warnings: count, online: z.boolean(), escalation }),
  cases: z.strictObject({
    nick,
    entries: z.array(
      z.strictObject({
        id: z.number().int().positive(),
        action: z.enum(['warn', 'note', 'kick', 'suspend', 'forgive', 'ban', 'unban']),
        by: nick,
        reason: z.string().nullable(),
        at: millis,
        until: millis.nullable(),
      }),
    ),
  }),
  note: z.strictObject({ nick, id: z.number().int().positive() }),
  shutdown: z.union([
    z.strictObject({ seconds: count }),
    z.strictObject({ cancelled: z.literal(true) }),
  ]),
  /** Without `key`: every parameter; with it: that one (after a change or reset). */
  config: z.union([z.strictObject({ parameters: z.array(parameter) }), parameter]),
  users: z.strictObject({
    accounts: z.array(
      z.strictObject({
        name: nick,
        role,
        createdAt: millis,
        lastSeenAt: millis.nullable(),
        online: z.boolean(),
      }),
    ),
  }),
} satisfies Record<string, z.ZodType>;

export type ReplyCommand = keyof typeof REPLY_SCHEMAS;

/** The `data` of an `ok` reply to `cmd`. */
export type ReplyData<C extends ReplyCommand> = z.output<(typeof REPLY_SCHEMAS)[C]>;

/**
 * The `details` of each error code that carries any, by code; every other code carries
 * none. One shape per code, whichever command answers it, so a client can rely on it.
 */
export const ERROR_DETAILS = {
  rate_limited: z.strictObject({ retryAfterMs: count }),
  message_too_long: z.strictObject({ max: z.number().int().positive() }),
  unknown_user: z.strictObject({ unknown: z.array(z.string()), full: z.array(nick).optional() }),
  inbox_full: z.strictObject({ full: z.array(nick) }),
  login_failed: z.strictObject({ retryAfterSeconds: z.number().int().positive() }),
  wrong_password: z.strictObject({ retryAfterSeconds: z.number().int().positive() }),
  already_logged_in: z.strictObject({ session: z.string() }),
  nick_confusable: z.strictObject({ like: z.string() }),
  banned: z.strictObject({ reason: z.string().nullable(), until: millis.nullable() }),
  file_too_large: z.strictObject({ max: count, size: count }),
  quota_exceeded: z.strictObject({ quota: count, used: count, size: count }),
  bad_chunk: z.strictObject({ expected: count }),
  checksum_mismatch: z.strictObject({
    expected: z.string().regex(/^[0-9a-f]{64}$/),
    got: z.string().regex(/^[0-9a-f]{64}$/),
  }),
  invalid_target: z.strictObject({ address: z.string() }),
  unknown_parameter: z.strictObject({ key: z.string() }),
  invalid_value: z.strictObject({ key: z.string() }),
  reply_too_large: z.strictObject({ limit: z.number().int().positive() }),
  unsupported_version: z.strictObject({ protocols: z.array(z.number().int().positive()) }),
} satisfies Partial<Record<ErrorCode, z.ZodType>>;
