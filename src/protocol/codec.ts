import type { ServerFrame } from './frames.js';

export { parseRequest, parseServerFrame, type ParsedRequest } from './parse.js';
export { MAX_REQUEST_ID } from './frames.js';

/**
 * The last frame encoded and its bytes. A fan-out hands one event to its recipients one
 * after another, so one slot encodes it once for all of them, with none of the garbage
 * collector's cost that a WeakMap entry per event brings at a hundred thousand a second.
 */
let lastFrame: ServerFrame | undefined;
let lastFrameBytes: Buffer = Buffer.alloc(0);

/**
 * Encodes a server frame as one LF-terminated line of JSON (Node only: the server and the
 * Node client). An event is encoded once however many recipients it has: fan-out to a
 * thousand members costs one JSON.stringify, not a thousand.
 */
export function encodeServerFrame(frame: ServerFrame): Buffer {
  if (!('ev' in frame)) return Buffer.from(JSON.stringify(frame) + '\n', 'utf8');
  if (frame !== lastFrame) {
    lastFrameBytes = Buffer.from(JSON.stringify(frame) + '\n', 'utf8');
    lastFrame = frame;
  }
  return lastFrameBytes;
}
