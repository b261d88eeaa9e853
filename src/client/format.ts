import { usageOf, type CommandInfo } from '../protocol/catalog.js';
import type { ServerEvent } from '../protocol/events.js';
import { formatBytes } from './bytes.js';
import type { FileEntry } from './transfers.js';

/** Human-readable lines for the line client (and the console): one event, one line. */
export function clock(ts: number): string {
  const date = new Date(ts);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** Date and time, for things that happened perhaps long ago (history, inbox, last seen). */
export function dateTime(ts: number): string {
  const date = new Date(ts);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${clock(ts)}`;
}

function replayMark(replay: string | undefined): string {
  return replay ? `(${replay}) ` : '';
}

function roomTag(room: string): string {
  return room === 'lobby' ? 'the lobby' : `#${room}`;
}

const LEAVE_TEXT: Readonly<Record<string, string>> = {
  quit: 'left',
  dropped: 'lost connection',
  kicked: 'was kicked',
  banned: 'was banned',
  timeout: 'timed out',
  shutdown: 'left (server shutdown)',
  replaced: 'logged in elsewhere',
};

/** "left", "lost connection", "was kicked", … for a session's end reason. */
export function leaveText(reason: string): string {
  return LEAVE_TEXT[reason] ?? 'left';
}

const GONE_TEXT: Record<string, string> = {
  declined: 'was declined',
  expired: 'expired and was removed',
  fetched: 'was fetched',
  deleted: 'was deleted',
};

export function formatEvent(event: ServerEvent): string | undefined {
  // A replayed message shows its original date: it may be from another day.
  const time = 'replay' in event && event.replay ? dateTime(event.ts) : clock(event.ts);
  switch (event.ev) {
    case 'hello':
      return `[${time}] connected to ${event.server} (confab ${event.version}, protocol ${event.protocol})`;
    case 'message': {
      const where = event.room === 'lobby' ? '' : `[#${event.room}] `;
      return `[${time}] ${replayMark(event.replay)}${where}<${event.from}> ${event.text}`;
    }
    case 'private':
      return `[${time}] ${replayMark(event.replay)}*${event.from}* → ${event.to.join(', ')}: ${event.text}`;
    case 'online':
      return `[${time}] -- ${event.nick} is online${event.account ? '' : ' (guest)'}`;
    case 'offline':
      return `[${time}] -- ${event.nick} ${leaveText(event.reason)}${event.message ? `: ${event.message}` : ''}`;
    case 'renamed':
      return `[${time}] -- ${event.from} is now known as ${event.to}`;
    case 'away':
      return event.message === null
        ? `[${time}] -- ${event.nick} is back`
        : `[${time}] -- ${event.nick} is away: ${event.message}`;
    case 'account':
      return event.account === null
        ? `[${time}] -- ${event.nick} is a guest now (account deleted)`
        : `[${time}] -- ${event.nick} registered the account ${event.account}`;
    case 'room_entered': {
      const what = event.restored ? 'You are back in' : 'You joined';
      const owner = event.owner ? ` (owner ${event.owner})` : '';
      const topic = event.topic ? ` — topic: ${event.topic}` : '';
      return `[${time}] -- ${what} ${roomTag(event.room)}${owner}${topic}`;
    }
    case 'room_left':
      return event.reason === 'removed'
        ? `[${time}] -- ${event.by ?? 'Someone'} removed you from ${roomTag(event.room)}${event.message ? `: ${event.message}` : ''}`
        : `[${time}] -- You left ${roomTag(event.room)}`;
    case 'room_join':
      return `[${time}] -- ${event.nick} joined ${roomTag(event.room)}`;
    case 'room_leave':
      return event.by === undefined
        ? `[${time}] -- ${event.nick} left ${roomTag(event.room)}${event.reason ? `: ${event.reason}` : ''}`
        : `[${time}] -- ${event.by} removed ${event.nick} from ${roomTag(event.room)}${event.reason ? `: ${event.reason}` : ''}`;
    case 'room_closed':
      return `[${time}] -- ${roomTag(event.room)} was closed by ${event.by}; you are back in the lobby`;
    case 'room_topic':
      return event.topic === null
        ? `[${time}] -- ${event.by} cleared the topic of ${roomTag(event.room)}`
        : `[${time}] -- ${event.by} set the topic of ${roomTag(event.room)}: ${event.topic}`;
    case 'notice':
      // An admin's announcement (`from`) is not the server's own notice (unread counts,
      // failed logins): each has its mark, and neither looks like an error (`!!`).
      return event.from
        ? `[${time}] ** ${event.from}: ${event.text}`
        : `[${time}] :: ${event.text}`;
    case 'shutdown':
      return `[${time}] ** Server shutting down in ${plural(event.seconds, 'second')}${event.reason ? `: ${event.reason}` : ''}`;
    case 'shutdown_cancelled':
      return `[${time}] ** Shutdown cancelled by ${event.by}`;
    case 'suspension':
      return event.suspended
        ? `[${time}] -- ${event.nick} is suspended by ${event.by} (can read and quit, nothing else)`
        : `[${time}] -- ${event.nick} is no longer suspended (forgiven by ${event.by})`;
    case 'warning':
      return `[${time}] ** Warning from ${event.by}: ${event.reason} (${event.warnings} ${event.warnings === 1 ? 'warning' : 'warnings'} lately)`;
    case 'monitor':
      if (event.what === 'log')
        return event.on
          ? `[${time}] ** Private messages are being written to the server's log (logs.privateMessages is on)`
          : `[${time}] ** Private messages are no longer written to the server's log`;
      return event.on
        ? `[${time}] ** Private messages are being monitored by the admins${event.by ? ` (turned on by ${event.by})` : ''}`
        : `[${time}] ** Private messages are no longer monitored${event.by ? ` (turned off by ${event.by})` : ''}`;
    case 'monitored':
      return `[${time}] (monitor) *${event.from}* → ${event.to.join(', ')}: ${event.text}`;
    case 'closing':
      if (event.code === 'quit') return `[${time}] -- ${event.message}`;
      return `[${time}] !! Disconnected by the server: ${event.message}`;
    case 'ping':
    case 'filedata':
      return undefined;
    case 'file':
      return `[${time}] ${replayMark(event.replay)}>> ${event.from} sent you ${event.name} (${formatBytes(event.size)}, ${event.file}): /get ${event.from} ${event.file} or /decline ${event.from} ${event.file}`;
    case 'shared':
      return `[${time}] >> ${event.from} shared ${event.name} (${formatBytes(event.size)}, ${event.file}): /download ${event.file}`;
    case 'filegone':
      return `[${time}] ${replayMark(event.replay)}>> ${event.name} (${event.file}) ${GONE_TEXT[event.reason]}${event.by ? ` by ${event.by}` : ''}`;
    case 'fileabort':
      return `[${time}] !! Transfer ${event.transfer} stopped: ${event.message}`;
    default:
      return `[${time}] ${JSON.stringify(event)}`;
  }
}

interface LockoutRow {
  nick?: string;
  address: string;
  secondsLeft: number;
}

interface UserRow {
  nick: string;
  session: string;
  status: string;
  role: string;
  idleSeconds: number;
  awayMessage?: string;
}

/** Reply data worth showing; acknowledgements of plain messages print nothing. */
export function formatReply(command: string, data: Record<string, unknown>): string[] {
  if (command === 'say' || command === 'broadcast' || command === 'ping' || command === 'quit')
    return [];
  if (command === 'away')
    return [typeof data.away === 'string' ? `You are marked away: ${data.away}` : 'You are back'];
  if (command === 'msg') {
    const list = (key: string) => (data[key] as string[] | undefined) ?? [];
    const lines: string[] = [];
    if (list('stored').length > 0)
      lines.push(`(stored for ${list('stored').join(', ')}: delivered at their next login)`);
    if (list('unknown').length > 0) lines.push(`(not delivered to: ${list('unknown').join(', ')})`);
    if (list('full').length > 0)
      lines.push(`(inbox full, not stored for: ${list('full').join(', ')})`);
    return lines;
  }
  const special = formatFeatureReply(command, data);
  if (special) return special;
  if (Array.isArray(data.users)) {
    const users = data.users as UserRow[];
    const title = command === 'whoelse' ? 'Others online' : 'Online';
    if (users.length === 0) return [`${title}: nobody`];
    return [
      `${title}: ${plural(users.length, 'user')}`,
      `  ${'Nick'.padEnd(20)} ${'Session'.padEnd(8)} ${'Status'.padEnd(9)} Role`,
      ...users.map(
        (user) =>
          `  ${user.nick.padEnd(20)} ${user.session.padEnd(8)} ${user.status.padEnd(9)} ${user.role}` +
          (user.idleSeconds >= 60 ? ` (idle ${Math.floor(user.idleSeconds / 60)}m)` : '') +
          (user.awayMessage === undefined ? '' : ` away: ${user.awayMessage}`),
      ),
    ];
  }
  if (Array.isArray(data.waiting) && Array.isArray(data.shared)) return formatFiles(data);
  if (command === 'decline') return [`Declined ${String(data.name)}`];
  if (command === 'unshare') return [`Deleted ${String(data.name)}`];
  const admin = formatAdminReply(command, data);
  if (admin) return admin;
  if (command === 'nick') return [`You are ${String(data.nick)}${data.account ? '' : ' (guest)'}`];
  if (command === 'register') return [`Registered: ${String(data.nick)} is now your account`];
  if (command === 'deregister')
    return [`Account deleted: you are ${String(data.nick)} (guest) until you leave`];
  if (command === 'passwd') return ['Password changed'];
  if (command === 'lockouts') {
    const pairs = (data.pairs as LockoutRow[] | undefined) ?? [];
    const addresses = (data.addresses as LockoutRow[] | undefined) ?? [];
    if (pairs.length + addresses.length === 0) return ['(no lockouts)'];
    return [
      ...pairs.map(
        (row) => `  ${String(row.nick).padEnd(20)} from ${row.address} for ${row.secondsLeft}s`,
      ),
      ...addresses.map(
        (row) => `  (any nickname)       from ${row.address} for ${row.secondsLeft}s`,
      ),
    ];
  }
  const entries = Object.entries(data);
  if (entries.length === 0) return ['ok'];
  return entries.map(
    ([key, value]) => `  ${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`,
  );
}

function formatFiles(data: Record<string, unknown>): string[] {
  const section = (title: string, files: FileEntry[], who: (file: FileEntry) => string) =>
    files.length === 0
      ? [`${title}: none`]
      : [
          `${title}:`,
          ...files.map(
            (file) =>
              `  ${file.file.padEnd(6)} ${file.name}  ${formatBytes(file.size)}  ${who(file)}  until ${dateTime(file.expiresAt)}`,
          ),
        ];
  return [
    ...section('Waiting for you', data.waiting as FileEntry[], (file) => `from ${file.from}`),
    ...section(
      'Sent by you',
      (data.sent as FileEntry[] | undefined) ?? [],
      (file) => `to ${file.to ?? '?'}`,
    ),
    ...section('Shared', data.shared as FileEntry[], (file) => `by ${file.from}`),
  ];
}

const GROUP_TITLES: Readonly<Record<string, string>> = {
  session: 'Session',
  messaging: 'Messages',
  rooms: 'Rooms',
  presence: 'Who is here',
  blocking: 'Blocking',
  files: 'Files',
  account: 'Your account',
  admin: 'Administration',
};

/**
 * `/help`: the commands this user may use (admin ones only for admins), grouped by feature
 * area in catalogue order, then the client's own. Rows under a heading are indented.
 */
export function formatHelp(
  commands: readonly CommandInfo[],
  local: readonly { usage: string; summary: string }[],
  options: { readonly admin: boolean },
): string[] {
  const offered = commands.filter(
    (command) => !command.hidden && (options.admin || !command.admin),
  );
  const groups = new Map<string, { usage: string; summary: string }[]>();
  for (const command of offered) {
    const title = GROUP_TITLES[command.group] ?? command.group;
    const rows = groups.get(title) ?? [];
    rows.push({ usage: usageOf(command), summary: command.summary });
    groups.set(title, rows);
  }
  if (local.length > 0) groups.set('This client', [...local]);
  const all = [...groups.values()].flat();
  const width = Math.min(40, Math.max(...all.map((row) => row.usage.length)));
  const lines: string[] = [];
  for (const [title, rows] of groups) {
    lines.push(`${title}:`);
    for (const row of rows) lines.push(`  ${row.usage.padEnd(width)}  ${row.summary}`);
  }
  return lines;
}

interface RoomRow {
  name: string;
  owner: string | null;
  members: number;
  topic: string | null;
  joined: boolean;
}

interface MessageRow {
  ts: number;
  from: string;
  to?: string[];
  text: string;
  read?: boolean;
}

interface SeenRow {
  nick: string;
  online: boolean;
  account: boolean;
  lastSeen: number;
}

function ago(ms: number): string {
  const minutes = Math.max(0, Math.floor(ms / 60_000));
  if (minutes < 60) return `${minutes}m ago`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')} ago`;
}

/** Replies of the rooms, inbox, blocking and presence commands; undefined for others. */
function formatFeatureReply(command: string, data: Record<string, unknown>): string[] | undefined {
  switch (command) {
    case 'create':
    case 'join':
    case 'leave':
      return []; // room_entered / room_left say it
    case 'close':
      return [`Closed ${roomTag(String(data.room))}`];
    case 'rooms':
      return (data.rooms as RoomRow[]).map(
        (room) =>
          `  ${room.joined ? '*' : ' '} ${roomTag(room.name).padEnd(22)} ${String(room.members).padStart(4)} online` +
          (room.owner ? `  owner ${room.owner}` : '') +
          (room.topic ? `  — ${room.topic}` : ''),
      );
    case 'members': {
      const members = data.members as { nick: string; online: boolean; owner: boolean }[];
      const names = members.map(
        (member) =>
          member.nick + (member.owner ? ' (owner)' : '') + (member.online ? '' : ' (offline)'),
      );
      return [`${roomTag(String(data.room))}: ${names.join(', ') || '(nobody)'}`];
    }
    case 'topic':
      return [
        data.topic === null
          ? `${roomTag(String(data.room))} has no topic`
          : `Topic of ${roomTag(String(data.room))}: ${String(data.topic)}`,
      ];
    case 'history': {
      const messages = data.messages as MessageRow[];
      if (messages.length === 0) return [`(no messages in ${roomTag(String(data.room))})`];
      const lines = messages.map(
        (message) => `[${dateTime(message.ts)}] (history) <${message.from}> ${message.text}`,
      );
      if (data.more === true)
        lines.unshift(`(older messages exist: /history ${messages.length * 2} shows more)`);
      return lines;
    }
    case 'inbox': {
      const messages = data.messages as MessageRow[];
      if (messages.length === 0) return ['(no unread private messages)'];
      return messages.map(
        (message) =>
          `[${dateTime(message.ts)}] ${message.read ? '' : '(new) '}*${message.from}*: ${message.text}`,
      );
    }
    case 'block':
      return [`You block ${String(data.blocked)}: you will not see their messages`];
    case 'unblock':
      return [`You no longer block ${String(data.unblocked)}`];
    case 'blocked': {
      const blocked = data.blocked as string[];
      return [blocked.length === 0 ? '(you block nobody)' : `You block: ${blocked.join(', ')}`];
    }
    case 'wholasthr': {
      const seen = data.seen as SeenRow[];
      if (seen.length === 0) return ['Seen in the last hour: nobody else'];
      const now = Date.now();
      const rows = seen.map(
        (user) =>
          `  ${user.nick.padEnd(20)} ${user.online ? 'online' : `last seen ${clock(user.lastSeen)} (${ago(now - user.lastSeen)})`}` +
          (user.account ? '' : ' (guest)'),
      );
      return [`Seen in the last hour: ${plural(seen.length, 'user')}`, ...rows];
    }
    case 'whois': {
      const lines = [
        `${String(data.nick)}: ${data.account ? `account (${String(data.role)})` : 'guest'}, ` +
          (data.online
            ? `online (${String(data.status)}), idle ${Math.floor(Number(data.idleSeconds) / 60)}m`
            : typeof data.lastSeen === 'number'
              ? `offline, last seen ${dateTime(data.lastSeen)}`
              : 'offline, never seen'),
      ];
      if (typeof data.awayMessage === 'string') lines.push(`  away: ${data.awayMessage}`);
      if (typeof data.address === 'string') lines.push(`  address: ${data.address}`);
      else if (data.address === null) lines.push('  address: none (not connected)');
      const rooms = data.rooms as string[];
      if (rooms.length > 0) lines.push(`  rooms: ${rooms.map(roomTag).join(', ')}`);
      return lines;
    }
    default:
      return undefined;
  }
}

/** `1 other`, `3 others`: counts that read right. */
export function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/** A time that may be missing (an account never seen). */
function when(ts: unknown): string {
  return typeof ts === 'number' ? dateTime(ts) : 'never';
}

interface ParameterRow {
  key: string;
  value: number | boolean;
  source: string;
  default: number | boolean;
}

function parameterLine(row: ParameterRow): string {
  const note = row.source === 'default' ? '' : ` (default ${String(row.default)})`;
  return `  ${row.key.padEnd(26)} ${String(row.value).padEnd(12)} ${row.source}${note}`;
}

interface CaseRow {
  action: string;
  by: string;
  reason: string | null;
  at: number;
  until: number | null;
}

/** What the escalation ladder did after a warning or a suspension, if anything. */
function escalationLines(nick: string, escalation: unknown): string[] {
  if (typeof escalation !== 'object' || escalation === null) return [];
  const { step, until } = escalation as { step: string; until: number | null };
  const end = until === null ? 'for good' : `until ${when(until)}`;
  return [`The escalation ladder ${step === 'banned' ? 'banned' : 'suspended'} ${nick} ${end}`];
}

/** Admin replies: lists as tables, changes as one line. */
function formatAdminReply(command: string, data: Record<string, unknown>): string[] | undefined {
  switch (command) {
    case 'config':
      if (Array.isArray(data.parameters))
        return (data.parameters as ParameterRow[]).map(parameterLine);
      return [parameterLine(data as unknown as ParameterRow)];
    case 'users': {
      const accounts = (data.accounts ?? []) as Array<{
        name: string;
        role: string;
        createdAt: number;
        lastSeenAt: number | null;
        online: boolean;
      }>;
      if (accounts.length === 0) return ['(no accounts)'];
      return accounts.map(
        (account) =>
          `  ${account.name.padEnd(20)} ${account.role.padEnd(6)} created ${when(account.createdAt)}  ` +
          (account.online ? 'online now' : `last seen ${when(account.lastSeenAt)}`),
      );
    }
    case 'bans': {
      const bans = (data.bans ?? []) as Array<{
        nick: string;
        address: string | null;
        reason: string | null;
        until: number | null;
        by: string;
      }>;
      if (bans.length === 0) return ['(no bans)'];
      return bans.map(
        (ban) =>
          `  ${ban.nick.padEnd(20)} ${(ban.address ?? '-').padEnd(16)} ` +
          `${ban.until === null ? 'for good' : `until ${when(ban.until)}`}  by ${ban.by}` +
          (ban.reason ? `: ${ban.reason}` : ''),
      );
    }
    case 'kick':
      return [`Kicked ${String(data.nick)}`];
    case 'ban': {
      const lines = [
        `Banned ${String(data.nick)} ${data.until === null ? 'for good' : `until ${when(data.until)}`}` +
          (typeof data.address === 'string' ? `, and the address ${data.address}` : ''),
      ];
      const sharing = Array.isArray(data.sharing) ? (data.sharing as string[]) : [];
      if (typeof data.address === 'string')
        lines.push(
          sharing.length === 0
            ? `Nobody else is online from ${data.address}`
            : `${plural(sharing.length, 'other')} online from ${data.address} (${sharing.join(', ')}): they stay on, but cannot log in again while the ban lasts`,
        );
      return lines;
    }
    case 'unban':
      return [`Lifted the ban on ${String(data.nick)}`];
    case 'suspend':
    case 'forgive':
      return [
        `${String(data.nick)} is ${data.suspended ? 'suspended' : 'no longer suspended'}`,
        ...escalationLines(String(data.nick), data.escalation),
      ];
    case 'warn':
      return [
        `Warned ${String(data.nick)} (${String(data.warnings)} lately${data.online ? '' : '; offline: recorded in their case'})`,
        ...escalationLines(String(data.nick), data.escalation),
      ];
    case 'note':
      return [`Noted in ${String(data.nick)}'s case`];
    case 'cases': {
      const entries = (data.entries ?? []) as CaseRow[];
      if (entries.length === 0) return [`(no moderation history for ${String(data.nick)})`];
      return [
        `Moderation case of ${String(data.nick)} (${entries.length} ${entries.length === 1 ? 'entry' : 'entries'}):`,
        ...entries.map(
          (entry) =>
            `  ${dateTime(entry.at)}  ${entry.action.padEnd(8)} by ${entry.by}` +
            (entry.until === null ? '' : ` until ${when(entry.until)}`) +
            (entry.reason ? `: ${entry.reason}` : ''),
        ),
      ];
    }
    case 'lock':
    case 'unlock':
      return [data.locked ? 'Locked: no new logins' : 'Unlocked: new logins welcome'];
    case 'monitor':
      return [`Monitoring is ${data.monitor ? 'on' : 'off'}`];
    case 'shutdown':
      return [
        data.cancelled
          ? 'Shutdown cancelled'
          : `Shutting down in ${plural(Number(data.seconds), 'second')}`,
      ];
    case 'announce':
      return [];
    default:
      return undefined;
  }
}

const FILE_ERRORS: Readonly<Record<string, (path: string) => string>> = {
  ENOENT: (path) => `There is no file ${path}`,
  EACCES: (path) => `You may not read or write ${path}`,
  EPERM: (path) => `You may not read or write ${path}`,
  EISDIR: (path) => `${path} is a folder, not a file`,
  ENOTDIR: (path) => `A part of ${path} is not a folder`,
  ENOSPC: (path) => `The disk is full: ${path} could not be written`,
  EROFS: (path) => `${path} is on a read-only disk`,
  EMFILE: () => 'Too many files are open: try again',
};

/**
 * A failure as a sentence: the file system's errors (`ENOENT: no such file or directory,
 * stat 'x'`) in words, with the path; others as their message.
 */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const { code, path } = error as NodeJS.ErrnoException;
  const describe = code ? FILE_ERRORS[code] : undefined;
  if (describe) return describe(path ?? 'that file');
  return error.message;
}
