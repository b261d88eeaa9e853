import type { ErrorCode } from './errors.js';
import { MAX_REQUEST_ID, type Request, type ServerFrame } from './frames.js';

/** A frame's text checked as a request envelope (the command's own arguments come later). */
export type ParsedRequest =
  | { readonly ok: true; readonly request: Request }
  | {
      readonly ok: false;
      readonly re: number | null;
      readonly code: ErrorCode;
      readonly message: string;
    };

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

/** A server frame's text as the client sees it; undefined when it is neither reply nor event. */
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
