/**
 * Protocol v1 framing: every frame is one UTF-8 JSON text terminated by LF (a CR before the
 * LF is dropped). Sockets deliver arbitrary chunks, so the decoder accumulates bytes and
 * yields whole frames; it never holds more than `maxFrameBytes` of an unfinished frame.
 */
export type FrameResult =
  | { readonly kind: 'frame'; readonly text: string }
  | {
      readonly kind: 'error';
      readonly code: 'frame_too_large' | 'invalid_utf8';
      readonly bytes: number;
    };

const LF = 0x0a;
const CR = 0x0d;
/** Whole frames are decoded without streaming state, so one decoder serves every connection. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

export class FrameDecoder {
  /** Pieces of the unfinished frame; null while there is none, as on an idle connection. */
  private pending: Uint8Array[] | null = null;
  private pendingBytes = 0;
  /** After an oversize frame, bytes are dropped until the next LF. */
  private discarding = false;

  constructor(readonly maxFrameBytes: number) {}

  /** Bytes of an unfinished frame held right now (never above the limit). */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  push(chunk: Uint8Array): FrameResult[] {
    const results: FrameResult[] = [];
    let start = 0;
    while (start < chunk.length) {
      const lf = chunk.indexOf(LF, start);
      const end = lf < 0 ? chunk.length : lf;
      const piece = chunk.subarray(start, end);
      if (this.discarding) {
        // The error was reported when the limit was passed; drop the rest of that frame.
      } else if (this.pendingBytes + piece.length > this.maxFrameBytes + 1) {
        // +1 leaves room for a CR that is stripped later: the limit counts payload bytes.
        // Reported at once, not at the frame's end, so a peer can be cut off before it
        // sends the rest of an endless frame.
        results.push({
          kind: 'error',
          code: 'frame_too_large',
          bytes: this.pendingBytes + piece.length,
        });
        this.discarding = true;
        this.pending = null;
        this.pendingBytes = 0;
      } else if (lf >= 0 && this.pending === null) {
        // The common case, a whole frame in one chunk: decoded where it lies.
        results.push(this.decodeFrame(piece));
        start = lf + 1;
        continue;
      } else if (piece.length > 0) {
        // Copy a trailing partial piece: the socket may reuse the chunk's memory after we return.
        (this.pending ??= []).push(lf < 0 ? Uint8Array.prototype.slice.call(piece) : piece);
        this.pendingBytes += piece.length;
      }
      if (lf < 0) break;
      if (this.discarding) this.discarding = false;
      else results.push(this.finishFrame());
      start = lf + 1;
    }
    return results;
  }

  private finishFrame(): FrameResult {
    const pending = this.pending ?? [];
    const bytes: Uint8Array =
      pending.length === 1 ? pending[0]! : Buffer.concat(pending, this.pendingBytes);
    this.pending = null;
    this.pendingBytes = 0;
    return this.decodeFrame(bytes);
  }

  private decodeFrame(frame: Uint8Array): FrameResult {
    let bytes = frame;
    if (bytes.length > 0 && bytes[bytes.length - 1] === CR)
      bytes = bytes.subarray(0, bytes.length - 1);
    if (bytes.length > this.maxFrameBytes)
      return { kind: 'error', code: 'frame_too_large', bytes: bytes.length };
    try {
      return { kind: 'frame', text: UTF8.decode(bytes) };
    } catch {
      return { kind: 'error', code: 'invalid_utf8', bytes: bytes.length };
    }
  }
}

/** Encodes one frame. JSON.stringify never emits a raw LF, so the LF is unambiguous. */
export function encodeFrame(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value) + '\n', 'utf8');
}
