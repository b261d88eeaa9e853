import { clock, leaveText } from '../client/format.js';
import type { LogRecord } from '../logging/logs.js';

function text(value: unknown): string | undefined {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
}

function errorText(value: unknown): string | undefined {
  if (value instanceof Error) return value.message;
  if (value && typeof value === 'object' && 'message' in value) return text(value.message);
  return undefined;
}

/**
 * The server console's view of the server log: what an operator watching the terminal
 * wants to see as it happens (logins and logouts, failed passwords, admin actions, errors),
 * one line each in local time. Everything else stays in `logs/server.log` only; a busy
 * server's connection chatter would bury the prompt.
 */
export function describeActivity(record: LogRecord): string | undefined {
  const at = `[${clock(record.time)}]`;
  const fields = record.fields;
  const nick = text(fields.nick);
  const address = text(fields.address);
  const from = address ? ` from ${address}` : '';
  switch (fields.event) {
    case 'login':
      return `${at} ${nick} logged in${from}${fields.account === null ? ' (guest)' : ''}`;
    case 'logout':
      return `${at} ${nick} ${leaveText(text(fields.reason) ?? 'quit')}`;
    case 'away':
      return `${at} ${nick} lost connection; the session waits to be resumed`;
    case 'resumed':
      return `${at} ${nick} resumed${from}`;
    case 'login_failed':
      return `${at} failed password for ${nick}${from}${fields.lockedUntil ? ` (now locked until ${clock(Number(fields.lockedUntil))})` : ''}`;
    case 'audit': {
      const target = text(fields.target);
      const details = text(fields.details);
      return `${at} ${text(fields.actor)}: ${text(fields.action)}${target ? ` ${target}` : ''}${details ? ` (${details})` : ''}`;
    }
    case 'shutdown_scheduled':
      return `${at} shutdown in ${text(fields.seconds)} s${fields.reason ? `: ${text(fields.reason)}` : ''}`;
    case 'shutdown_cancelled':
      return `${at} shutdown cancelled by ${text(fields.by)}`;
    case 'node_lost':
      return `${at} node ${text(fields.lost)} stopped answering`;
  }
  if (record.level === 'error') {
    const cause = errorText(fields.err);
    return `${at} error: ${record.message ?? 'unknown'}${cause ? `: ${cause}` : ''}`;
  }
  return undefined;
}
