import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameDecoder, type FrameResult } from '../src/protocol/framing.js';

const LIMIT = 32;

/** Frame contents that exercise every path: text, CR, invalid UTF-8, exactly-at and over the limit. */
const frameBody = fc.oneof(
  fc.string({ maxLength: 20 }).map((text) => Buffer.from(text.replace(/\n/g, ' '), 'utf8')),
  fc
    .uint8Array({ maxLength: LIMIT + 4 })
    .map((bytes) => Buffer.from(bytes.filter((b) => b !== 0x0a))),
  fc.constantFrom(
    Buffer.from([0xc3, 0x28]),
    Buffer.from([0xf0, 0x9f, 0x91]),
    Buffer.from('é'.repeat(LIMIT / 2), 'utf8'),
    Buffer.alloc(LIMIT, 0x61),
    Buffer.alloc(LIMIT + 1, 0x61),
    Buffer.concat([Buffer.alloc(LIMIT, 0x61), Buffer.from('\r')]),
    Buffer.alloc(LIMIT * 3, 0x62),
    Buffer.from('\r'),
    Buffer.alloc(0),
  ),
);

/** A stream of frames, the last one possibly unterminated. */
const stream = fc
  .tuple(fc.array(frameBody, { maxLength: 12 }), fc.option(frameBody, { nil: undefined }))
  .map(([frames, tail]) =>
    Buffer.concat([...frames.flatMap((f) => [f, Buffer.from('\n')]), tail ?? Buffer.alloc(0)]),
  );

/** What the protocol says the frames of a complete stream are, written independently. */
function expected(input: Buffer): Essence[] {
  const out: Essence[] = [];
  let start = 0;
  for (let lf = input.indexOf(0x0a); lf >= 0; lf = input.indexOf(0x0a, start)) {
    let body = input.subarray(start, lf);
    start = lf + 1;
    if (body.length > 0 && body[body.length - 1] === 0x0d) body = body.subarray(0, -1);
    if (body.length > LIMIT) {
      out.push({ kind: 'error', code: 'frame_too_large' });
      continue;
    }
    try {
      out.push({ kind: 'frame', text: new TextDecoder('utf-8', { fatal: true }).decode(body) });
    } catch {
      out.push({ kind: 'error', code: 'invalid_utf8' });
    }
  }
  // An unterminated tail is reported only once it is already known to be too large.
  const tail = input.subarray(start);
  if (tail.length > LIMIT + 1) out.push({ kind: 'error', code: 'frame_too_large' });
  return out;
}

/** A result without `bytes`, which counts what had arrived when an error was seen. */
function essence(result: FrameResult): Essence {
  return result.kind === 'frame'
    ? { kind: 'frame', text: result.text }
    : { kind: 'error', code: result.code };
}

type Essence =
  | { readonly kind: 'frame'; readonly text: string }
  | { readonly kind: 'error'; readonly code: 'frame_too_large' | 'invalid_utf8' };

function split(input: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => cut % (input.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const point of [...points, input.length]) {
    chunks.push(input.subarray(from, point));
    from = point;
  }
  return chunks;
}

describe('FrameDecoder, property-based', () => {
  it('yields the same frames or typed errors however the stream is split, never throwing', () => {
    fc.assert(
      fc.property(stream, fc.array(fc.nat(), { maxLength: 30 }), (input, cuts) => {
        const decoder = new FrameDecoder(LIMIT);
        const results: FrameResult[] = [];
        for (const chunk of split(input, cuts)) {
          // The decoder may be handed a chunk whose memory is reused right after.
          const copy = Buffer.from(chunk);
          results.push(...decoder.push(copy));
          copy.fill(0x7a);
          expect(decoder.bufferedBytes).toBeLessThanOrEqual(LIMIT + 1);
        }
        const whole = new FrameDecoder(LIMIT).push(input);
        expect(results.map(essence)).toEqual(whole.map(essence));
        expect(results.map(essence)).toEqual(expected(input));
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on arbitrary bytes, one byte at a time', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        const decoder = new FrameDecoder(LIMIT);
        for (const byte of bytes)
          for (const result of decoder.push(Uint8Array.of(byte)))
            expect(['frame', 'error']).toContain(result.kind);
      }),
      { numRuns: 500 },
    );
  });
});
