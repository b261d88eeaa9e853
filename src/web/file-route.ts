import type { IncomingMessage, ServerResponse } from 'node:http';
import { once } from 'node:events';
import { ChatError } from '../core/errors.js';
import type { HttpLink } from '../core/files/file-service.js';
import type { HttpFilePort } from '../core/port.js';
import type { RouteHandler } from './router.js';

/** The path of the file route; a link is `/file?t=TOKEN`. */
export const FILE_ROUTE = '/file';
/** Bytes read from a blob per write to the response. */
const READ_BYTES = 64 * 1024;

/**
 * File bytes over HTTP (docs/protocol.md, "HTTP file transfer"): GET (and HEAD) a file with
 * a short-lived link from `filelink`, whole or by `Range`; PUT an upload's bytes, streamed
 * through the core's file service in pieces no larger than a chunk, so the same size,
 * offset and SHA-256 checks apply as to `filechunk` and no body is held whole in memory.
 * `files` is asked for the file service at each request (a server without file transfer
 * throws there, answered as the error it is).
 */
export function fileRoutes(files: () => HttpFilePort): { get: RouteHandler; put: RouteHandler } {
  return {
    get: (request, response, { url }) => serveFile(files, request, response, url),
    put: (request, response, { url }) => receiveFile(files, request, response, url),
  };
}

async function serveFile(
  port: () => HttpFilePort,
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
): Promise<void> {
  const files = port();
  let link: HttpLink;
  try {
    link = files.redeemLink(url.searchParams.get('t') ?? '', 'GET');
  } catch (error) {
    return fail(response, error);
  }
  const { file } = link;
  const range = parseRange(request.headers.range, file.size);
  response.setHeader('Accept-Ranges', 'bytes');
  response.setHeader('Cache-Control', 'no-store');
  response.setHeader('ETag', `"${file.sha256}"`);
  response.setHeader('X-Content-SHA256', file.sha256);
  if (range === 'unsatisfiable') {
    response.setHeader('Content-Range', `bytes */${file.size}`);
    return fail(response, new ChatError('bad_request', `The file has ${file.size} bytes`), 416);
  }
  // A range only applies to the file it was asked of (RFC 9110 If-Range, strong ETag).
  const ifRange = request.headers['if-range'];
  const useRange = range && (ifRange === undefined || ifRange === `"${file.sha256}"`);
  const start = useRange ? range.start : 0;
  const end = useRange ? range.end : file.size - 1;
  let reader;
  try {
    reader = await files.openLinkBlob(link);
  } catch (error) {
    return fail(response, error);
  }
  try {
    response.statusCode = useRange ? 206 : 200;
    if (useRange) response.setHeader('Content-Range', `bytes ${start}-${end}/${file.size}`);
    response.setHeader('Content-Type', 'application/octet-stream');
    response.setHeader('Content-Length', String(Math.max(0, end - start + 1)));
    response.setHeader('Content-Disposition', contentDisposition(file.name));
    if (request.method === 'HEAD') return void response.end();
    let offset = start;
    while (offset <= end && !response.destroyed) {
      const bytes = await reader.read(offset, Math.min(READ_BYTES, end - offset + 1));
      if (bytes.length === 0) break;
      offset += bytes.length;
      files.linkServed(link, bytes.length);
      // Backpressure: wait for the socket to drain, so a slow reader costs one buffer.
      if (!response.write(bytes))
        await Promise.race([once(response, 'drain'), once(response, 'close')]);
    }
    response.end();
  } finally {
    await reader.close().catch(() => undefined);
  }
}

async function receiveFile(
  port: () => HttpFilePort,
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
): Promise<void> {
  const files = port();
  let link: HttpLink;
  try {
    link = files.redeemLink(url.searchParams.get('t') ?? '', 'PUT');
    if (link.busy) throw new ChatError('bad_request', 'This upload is already receiving bytes');
  } catch (error) {
    request.resume();
    return fail(response, error);
  }
  link.busy = true;
  try {
    const state = files.linkUploadState(link);
    let offset = state.offset;
    const range = parseContentRange(request.headers['content-range'], state.size);
    if (range === 'invalid')
      throw new ChatError('bad_request', 'Content-Range must be "bytes START-END/SIZE"');
    if (range && range.start !== offset)
      throw new ChatError('bad_chunk', `The next byte is ${offset}`, { expected: offset });
    const length = Number(request.headers['content-length'] ?? NaN);
    if (Number.isFinite(length) && offset + length > state.size)
      throw new ChatError('bad_chunk', `The file has only ${state.size} bytes`, {
        expected: offset,
      });
    // Pieces of at most a chunk, each written before the next is read: the body streams.
    for await (const chunk of request as AsyncIterable<Buffer>) {
      for (let at = 0; at < chunk.length; at += state.chunkBytes) {
        const piece = chunk.subarray(at, at + state.chunkBytes);
        await files.putLinkBytes(link, offset, piece);
        offset += piece.length;
      }
    }
    if (offset < state.size)
      return json(response, 200, { transfer: link.transfer, received: offset, size: state.size });
    const done = await files.finishUpload(link.session, link.transfer!);
    json(response, 200, { ...done, received: offset });
  } catch (error) {
    // Stop reading what is left of a refused body; the connection closes after the answer.
    response.setHeader('Connection', 'close');
    fail(response, error);
    request.resume();
  } finally {
    link.busy = false;
  }
}

type Range = { readonly start: number; readonly end: number };

/** One `bytes=` range of RFC 9110 (several ranges are served whole, as the RFC allows). */
export function parseRange(
  header: string | undefined,
  size: number,
): Range | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

/** A PUT's `Content-Range: bytes START-END/SIZE`, to resume an upload part-way. */
function parseContentRange(
  header: string | undefined,
  size: number,
): Range | 'invalid' | undefined {
  if (header === undefined) return undefined;
  const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header.trim());
  if (!match) return 'invalid';
  const start = Number(match[1]);
  const end = Number(match[2]);
  if (end < start || (match[3] !== '*' && Number(match[3]) !== size)) return 'invalid';
  return { start, end };
}

/** `attachment` with the stored name, ASCII fallback plus RFC 8187 UTF-8. */
function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

const STATUS: Readonly<Record<string, number>> = {
  unknown_transfer: 404,
  unknown_file: 410,
  bad_chunk: 409,
  checksum_mismatch: 422,
  storage_failed: 507,
  storage_full: 507,
  bad_request: 400,
};

function fail(response: ServerResponse, error: unknown, status?: number): void {
  if (!(error instanceof ChatError)) throw error;
  json(response, status ?? STATUS[error.code] ?? 400, {
    code: error.code,
    message: error.message,
    ...(error.details && { details: error.details }),
  });
}

function json(response: ServerResponse, status: number, body: object): void {
  if (response.headersSent) return void response.destroy();
  response.statusCode = status;
  response.setHeader('Content-Type', 'application/json; charset=utf-8');
  response.setHeader('Cache-Control', 'no-store');
  response.end(JSON.stringify(body));
}
