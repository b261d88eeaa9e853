import { usageOf, type CommandInfo } from '../core/catalog.js';
import type { ChatEvent } from '../core/events.js';

/** Human-readable lines for the line client (and the console): one event, one line. */
export function clock(ts: number): string {
  const date = new Date(ts);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

function replayMark(replay: string | undefined): string {
  return replay ? `(${replay}) ` : '';
}

const LEAVE_TEXT: Record<string, string> = {
  quit: 'left',
  dropped: 'lost connection',
  kicked: 'was kicked',
  timeout: 'timed out',
  shutdown: 'left (server shutdown)',
  replaced: 'logged in elsewhere',
};

export function formatEvent(event: ChatEvent): string | undefined {
  const time = clock(event.ts);
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
      return `[${time}] -- ${event.nick} ${LEAVE_TEXT[event.reason] ?? 'left'}${event.message ? `: ${event.message}` : ''}`;
    case 'renamed':
      return `[${time}] -- ${event.from} is now known as ${event.to}`;
    case 'notice':
      return `[${time}] !! ${event.text}`;
    case 'shutdown':
      return `[${time}] !! Server shutting down in ${event.seconds} seconds${event.reason ? `: ${event.reason}` : ''}`;
    case 'closing':
      if (event.code === 'quit') return `[${time}] -- ${event.message}`;
      return `[${time}] !! Disconnected by the server: ${event.message}`;
    case 'ping':
      return undefined;
    default:
      return `[${time}] ${JSON.stringify(event)}`;
  }
}

interface UserRow {
  nick: string;
  session: string;
  status: string;
  role: string;
  idleSeconds: number;
}

/** Reply data worth showing; acknowledgements of plain messages print nothing. */
export function formatReply(command: string, data: Record<string, unknown>): string[] {
  if (command === 'say' || command === 'broadcast' || command === 'ping' || command === 'quit')
    return [];
  if (command === 'msg') {
    const unknown = (data.unknown as string[] | undefined) ?? [];
    return unknown.length > 0 ? [`(not delivered to: ${unknown.join(', ')})`] : [];
  }
  if (Array.isArray(data.users)) {
    const users = data.users as UserRow[];
    if (users.length === 0) return ['(nobody)'];
    return users.map(
      (user) =>
        `  ${user.nick.padEnd(20)} ${user.session.padEnd(8)} ${user.status.padEnd(9)} ${user.role}` +
        (user.idleSeconds >= 60 ? ` (idle ${Math.floor(user.idleSeconds / 60)}m)` : ''),
    );
  }
  if (command === 'nick') return [`You are ${String(data.nick)}${data.account ? '' : ' (guest)'}`];
  if (command === 'register') return [`Registered: ${String(data.nick)} is now your account`];
  const entries = Object.entries(data);
  if (entries.length === 0) return ['ok'];
  return entries.map(
    ([key, value]) => `  ${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`,
  );
}

export function formatHelp(
  commands: readonly CommandInfo[],
  local: readonly { usage: string; summary: string }[],
): string[] {
  const rows = [
    ...commands.map((command) => ({
      usage: usageOf(command) + (command.admin ? ' (admin)' : ''),
      summary: command.summary,
    })),
    ...local,
  ];
  const width = Math.min(40, Math.max(...rows.map((row) => row.usage.length)));
  return rows.map((row) => `  ${row.usage.padEnd(width)}  ${row.summary}`);
}
