import type { ErrorCode } from '../core/errors.js';
import type { Request } from '../core/chat-core.js';
import type { ServerFrame } from '../core/session.js';

/**
 * Protocol v1 messages as JSON. Requests: `{"id": N, "cmd": "name", "args": {...}}`.
 * Replies: `{"re": N, "ok": true, "data": {...}}` or `{"re": N, "ok": false, "error": {...}}`.
 * Events: `{"ev": "name", "id": N, "ts": MS, ...}`.
 */
const encodedEvents = new WeakMap<object, Buffer>();

/**
 * Encodes a server frame. An event is encoded once however many recipients it has:
 * fan-out to a thousand members costs one JSON.stringify, not a thousand.
 */
export function encodeServerFrame(frame: ServerFrame): Buffer {
  if ('ev' in frame) {
    let bytes = encodedEvents.get(frame);
    if (!bytes) {
      bytes = Buffer.from(JSON.stringify(frame) + '\n', 'utf8');
      encodedEvents.set(frame, bytes);
    }
    return bytes;
  }
  return Buffer.from(JSON.stringify(frame) + '\n', 'utf8');
}

export type ParsedRequest =
  | { readonly ok: true; readonly request: Request }
  | {
      readonly ok: false;
      readonly re: number | null;
      readonly code: ErrorCode;
      readonly message: string;
    };

export const MAX_REQUEST_ID = Number.MAX_SAFE_INTEGER;

export function parseRequest(text: string): ParsedRequest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, re: null, code: 'bad_frame', message: 'The frame is not valid JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { ok: false, re: null, code: 'bad_request', message: 'A request is a JSON object' };
  const { id, cmd, args } = value as Record<string, unknown>;
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > MAX_REQUEST_ID)
    return {
      ok: false,
      re: null,
      code: 'bad_request',
      message: 'A request needs "id", a whole number from 0 to 2^53-1',
    };
  if (typeof cmd !== 'string' || cmd === '')
    return { ok: false, re: id, code: 'bad_request', message: 'A request needs "cmd", a string' };
  if (args !== undefined && (typeof args !== 'object' || args === null || Array.isArray(args)))
    return { ok: false, re: id, code: 'bad_request', message: '"args" must be a JSON object' };
  return { ok: true, request: { id, cmd, args: args ?? {} } };
}

export function parseServerFrame(text: string): ServerFrame | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null) return undefined;
    if ('ev' in value || 're' in value) return value as ServerFrame;
    return undefined;
  } catch {
    return undefined;
  }
}
