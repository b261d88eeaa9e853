import type { ErrorCode } from '../core/errors.js';
import type { Request } from '../core/chat-core.js';
import type { ChatEvent } from '../core/events.js';
import type { ServerFrame } from '../core/session.js';

/**
 * Protocol v1 messages as JSON. Requests: `{"id": N, "cmd": "name", "args": {...}}`.
 * Replies: `{"re": N, "ok": true, "data": {...}}` or `{"re": N, "ok": false, "error": {...}}`.
 * Events: `{"ev": "name", "id": N, "ts": MS, ...}`.
 */
/**
 * The last event encoded and its bytes. A fan-out hands one event to its recipients one
 * after another, so one slot encodes it once for all of them, with none of the garbage
 * collector's cost that a WeakMap entry per event brings at a hundred thousand a second.
 */
let lastEvent: ChatEvent | undefined;
let lastEventBytes: Buffer = Buffer.alloc(0);
/** The greeting's command list, the bulk of every `hello`, encoded once per catalogue. */
const encodedCatalogues = new WeakMap<object, string>();

/**
 * Encodes a server frame. An event is encoded once however many recipients it has:
 * fan-out to a thousand members costs one JSON.stringify, not a thousand.
 */
export function encodeServerFrame(frame: ServerFrame): Buffer {
  if (!('ev' in frame)) return Buffer.from(JSON.stringify(frame) + '\n', 'utf8');
  if (frame !== lastEvent) {
    lastEventBytes = Buffer.from(encodeEvent(frame) + '\n', 'utf8');
    lastEvent = frame;
  }
  return lastEventBytes;
}

function encodeEvent(event: ChatEvent): string {
  if (event.ev !== 'hello') return JSON.stringify(event);
  const { commands, ...rest } = event;
  let list = encodedCatalogues.get(commands);
  if (list === undefined) {
    list = JSON.stringify(commands);
    encodedCatalogues.set(commands, list);
  }
  return `${JSON.stringify(rest).slice(0, -1)},"commands":${list}}`;
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
