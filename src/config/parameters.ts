/**
 * The tunable parameters of `../shared/product.md`: one table, from which the config file,
 * environment variables, `--set` flags and (later) `/config` are all validated.
 */
const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

export type ParameterKind = 'integer' | 'bytes' | 'seconds' | 'boolean';

export interface ParameterSpec {
  readonly kind: ParameterKind;
  readonly default: number | boolean;
  readonly min?: number;
  readonly max?: number;
  readonly description: string;
}

export const PARAMETERS = {
  maxUsers: {
    kind: 'integer',
    default: 1000,
    min: 1,
    max: 1_000_000,
    description:
      'sessions online at once, away ones included; when full, the oldest away guest gives way to a login, else it is refused with a clear reason',
  },
  maxConnectionsPerIp: {
    kind: 'integer',
    default: 20,
    min: 1,
    max: 1_000_000,
    description:
      'open connections, and sessions online or away, from one address (IPv6: per /64); past it, the oldest away guest of that address gives way to a login',
  },
  connectionsPerMinutePerIp: {
    kind: 'integer',
    default: 60,
    min: 1,
    max: 1_000_000,
    description: 'new connections accepted from one address per minute (IPv6: per /64)',
  },
  'lockout.attempts': {
    kind: 'integer',
    default: 3,
    min: 1,
    max: 1000,
    description: 'failed passwords for one account from one address before a lockout',
  },
  'lockout.seconds': {
    kind: 'seconds',
    default: 60,
    min: 1,
    max: 86_400 * 30,
    description: 'how long a lockout lasts',
  },
  'lockout.addressAttempts': {
    kind: 'integer',
    default: 20,
    min: 1,
    max: 100_000,
    description:
      'failed logins from one address, over all nicknames, within an hour before that address is locked out for lockout.seconds',
  },
  'lockout.accountAttempts': {
    kind: 'integer',
    default: 100,
    min: 1,
    max: 100_000,
    description:
      'failed logins for one nickname, over all addresses, within an hour; from the 6th on each further guess from an address the account has never logged in from waits twice as long as the last (up to a minute), and at this many until the hour is over',
  },
  'presence.recentSeconds': {
    kind: 'seconds',
    default: 3600,
    min: 1,
    max: 86_400 * 365,
    description: 'the /wholasthr window',
  },
  'presence.announceMax': {
    kind: 'integer',
    default: 500,
    min: 0,
    max: 1_000_000,
    description:
      'logins, logouts and nickname changes are announced to everyone while at most this many are online; above it, only to those who share a room with the user',
  },
  idleTimeoutSeconds: {
    kind: 'seconds',
    default: 1800,
    min: 0,
    max: 86_400 * 30,
    description: 'inactive sessions are logged out with a notice; 0 turns it off',
  },
  'message.maxLength': {
    kind: 'integer',
    default: 280,
    min: 1,
    max: 10_000,
    description: 'characters (not bytes) in one message',
  },
  'history.replay': {
    kind: 'integer',
    default: 50,
    min: 0,
    max: 10_000,
    description: 'messages replayed on join and missed messages delivered at login',
  },
  'files.maxBytes': {
    kind: 'bytes',
    default: 100 * MiB,
    min: 0,
    max: 1024 * GiB,
    description: 'largest file one transfer may carry',
  },
  'files.quotaBytes': {
    kind: 'bytes',
    default: 1 * GiB,
    min: 0,
    max: 1024 * 1024 * GiB,
    description: "one user's stored files",
  },
  'files.totalBytes': {
    kind: 'bytes',
    default: 10 * GiB,
    min: 0,
    max: 1024 * 1024 * GiB,
    description: 'all stored files together, every user and guest; an upload past it is refused',
  },
  'files.guestUploads': {
    kind: 'boolean',
    default: true,
    description:
      "guests may send and share files; their uploads count against their address's quota (files.quotaBytes)",
  },
  'files.minFreeBytes': {
    kind: 'bytes',
    default: 256 * MiB,
    min: 0,
    max: 1024 * 1024 * GiB,
    description:
      'disk space kept free for chat: an upload that would leave less is refused (0: no reserve)',
  },
  'files.expiryDays': {
    kind: 'integer',
    default: 7,
    min: 1,
    max: 3650,
    description: 'unclaimed files are removed after this many days, and the sender is told',
  },
  'inbox.maxUnread': {
    kind: 'integer',
    default: 1000,
    min: 1,
    max: 1_000_000,
    description: 'unread private messages kept for one account',
  },
  'resume.graceSeconds': {
    kind: 'seconds',
    default: 120,
    min: 0,
    max: 86_400,
    description: 'how long a dropped session waits to be resumed',
  },
  'shutdown.noticeSeconds': {
    kind: 'seconds',
    default: 5,
    min: 0,
    max: 3600,
    description: 'countdown before a signal-triggered shutdown',
  },
  'flood.burst': {
    kind: 'integer',
    default: 20,
    min: 1,
    max: 1_000_000,
    description: 'requests a session may send at once',
  },
  'flood.perSecond': {
    kind: 'integer',
    default: 5,
    min: 1,
    max: 1_000_000,
    description: 'requests a session may send per second, sustained',
  },
  sendqBytes: {
    kind: 'bytes',
    default: 1 * MiB,
    min: 4 * KiB,
    max: 1 * GiB,
    description: 'queued output for one connection before a non-reading client is dropped',
  },
  'frame.maxBytes': {
    kind: 'bytes',
    default: 64 * KiB,
    min: 1 * KiB,
    max: 16 * MiB,
    description: 'largest frame a client may send',
  },
  registrationTimeoutSeconds: {
    kind: 'seconds',
    default: 30,
    min: 1,
    max: 3600,
    description: 'time from connect to a finished nickname/login step',
  },
  'ping.intervalSeconds': {
    kind: 'seconds',
    default: 90,
    min: 1,
    max: 86_400,
    description: 'silence before a keepalive ping',
  },
  'ping.timeoutSeconds': {
    kind: 'seconds',
    default: 150,
    min: 2,
    max: 86_400,
    description: 'silence before the connection is dropped',
  },
  'logs.privateMessages': {
    kind: 'boolean',
    default: false,
    description:
      'private messages written to logs/messages.log; while on, every user is told (as with /monitor)',
  },
  'escalation.warnings': {
    kind: 'integer',
    default: 0,
    min: 0,
    max: 1000,
    description:
      'warnings within escalation.warningWindowSeconds that suspend the user for escalation.suspendSeconds; 0 turns this step off',
  },
  'escalation.warningWindowSeconds': {
    kind: 'seconds',
    default: 86_400,
    min: 60,
    max: 86_400 * 365,
    description: 'the window in which warnings are counted for escalation.warnings',
  },
  'escalation.suspendSeconds': {
    kind: 'seconds',
    default: 3600,
    min: 60,
    max: 86_400 * 365,
    description: 'how long a suspension made by the escalation ladder lasts',
  },
  'escalation.suspensions': {
    kind: 'integer',
    default: 0,
    min: 0,
    max: 1000,
    description:
      'suspensions within escalation.suspensionWindowSeconds that ban the user for escalation.banSeconds; 0 turns this step off',
  },
  'escalation.suspensionWindowSeconds': {
    kind: 'seconds',
    default: 7 * 86_400,
    min: 60,
    max: 86_400 * 365,
    description: 'the window in which suspensions are counted for escalation.suspensions',
  },
  'escalation.banSeconds': {
    kind: 'seconds',
    default: 7 * 86_400,
    min: 0,
    max: 86_400 * 3650,
    description: 'how long a ban made by the escalation ladder lasts; 0 bans for good',
  },
  'irc.createOnJoin': {
    kind: 'boolean',
    default: true,
    description: 'an IRC JOIN of a room that does not exist creates it, owned by the joiner',
  },
} as const satisfies Record<string, ParameterSpec>;

export type ParameterKey = keyof typeof PARAMETERS;

export type ParameterValue<K extends ParameterKey> =
  (typeof PARAMETERS)[K]['kind'] extends 'boolean' ? boolean : number;

export type Parameters = { readonly [K in ParameterKey]: ParameterValue<K> };

export const PARAMETER_KEYS = Object.keys(PARAMETERS) as ParameterKey[];

export function isParameterKey(key: string): key is ParameterKey {
  return Object.hasOwn(PARAMETERS, key);
}

export function defaultParameters(): Parameters {
  const values: Record<string, number | boolean> = {};
  for (const key of PARAMETER_KEYS) values[key] = PARAMETERS[key].default;
  return values as Parameters;
}

const BYTE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: KiB,
  kb: 1000,
  kib: KiB,
  m: MiB,
  mb: 1000 * 1000,
  mib: MiB,
  g: GiB,
  gb: 1000 * 1000 * 1000,
  gib: GiB,
};

export type ParseResult = { ok: true; value: number | boolean } | { ok: false; message: string };

/**
 * Turns a value from any source (a number from YAML, a string from the environment, a
 * flag or `/config`) into a checked value, or says what is wrong with it.
 */
export function parseParameter(key: ParameterKey, raw: unknown): ParseResult {
  const spec: ParameterSpec = PARAMETERS[key];
  if (spec.kind === 'boolean') {
    if (typeof raw === 'boolean') return { ok: true, value: raw };
    if (raw === 'true' || raw === 'on' || raw === '1') return { ok: true, value: true };
    if (raw === 'false' || raw === 'off' || raw === '0') return { ok: true, value: false };
    return { ok: false, message: `${key} must be true or false` };
  }
  let value: number;
  if (typeof raw === 'number') {
    value = raw;
  } else if (typeof raw === 'string') {
    const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(raw);
    const unit = match?.[2]?.toLowerCase() ?? '';
    const multiplier = spec.kind === 'bytes' ? BYTE_UNITS[unit] : unit === '' ? 1 : undefined;
    if (!match || multiplier === undefined) {
      const hint = spec.kind === 'bytes' ? ' (bytes, or with KiB, MiB, GiB)' : '';
      return { ok: false, message: `${key} must be a whole number${hint}, got "${raw}"` };
    }
    value = Number(match[1]) * multiplier;
  } else {
    return { ok: false, message: `${key} must be a number` };
  }
  if (!Number.isInteger(value)) return { ok: false, message: `${key} must be a whole number` };
  if (spec.min !== undefined && value < spec.min)
    return { ok: false, message: `${key} must be at least ${spec.min}, got ${value}` };
  if (spec.max !== undefined && value > spec.max)
    return { ok: false, message: `${key} must be at most ${spec.max}, got ${value}` };
  return { ok: true, value };
}

/** `lockout.attempts` → `CONFAB_LOCKOUT_ATTEMPTS`, `maxUsers` → `CONFAB_MAX_USERS`. */
export function environmentName(key: ParameterKey): string {
  return (
    'CONFAB_' +
    key
      .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
      .replace(/\./g, '_')
      .toUpperCase()
  );
}
