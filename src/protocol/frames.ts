import type { ErrorCode } from './errors.js';
import type { ChatEvent, ServerEvent } from './events.js';

/**
 * Protocol v1 frames. A request is `{"id": N, "cmd": "name", "args": {...}}`; each gets
 * exactly one reply, `{"re": N, "ok": true, "data": {...}}` or
 * `{"re": N, "ok": false, "error": {"code", "message", "details"?}}`; everything else the
 * server sends is an event (see events.ts).
 */
export interface Request {
  readonly id: number;
  readonly cmd: string;
  readonly args: unknown;
}

/** The largest request id: ids are JSON numbers, exact up to 2^53-1. */
export const MAX_REQUEST_ID = Number.MAX_SAFE_INTEGER;

export interface ErrorBody {
  readonly code: ErrorCode;
  readonly message: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** A reply to one request: exactly one per request (`re` null when the id was unreadable). */
export type Reply =
  | { readonly re: number | null; readonly ok: true; readonly data: object }
  | { readonly re: number | null; readonly ok: false; readonly error: ErrorBody };

export type ServerFrame = Reply | ServerEvent;

/** What the core sends a connection: replies and the session's events (no connection events). */
export type SessionFrame = Reply | ChatEvent;

export function errorReply(
  re: number | null,
  code: ErrorCode,
  message: string,
  details?: Readonly<Record<string, unknown>>,
): Reply {
  return details
    ? { re, ok: false, error: { code, message, details } }
    : { re, ok: false, error: { code, message } };
}
