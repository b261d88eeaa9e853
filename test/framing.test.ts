import { describe, expect, it } from 'vitest';
import { FrameDecoder, type FrameResult } from '../src/protocol/framing.js';

const bytes = (text: string) => Buffer.from(text, 'utf8');
const texts = (results: FrameResult[]) =>
  results.map((r) => (r.kind === 'frame' ? r.text : `!${r.code}`));

describe('FrameDecoder', () => {
  it('yields several frames from one chunk', () => {
    const decoder = new FrameDecoder(1024);
    expect(texts(decoder.push(bytes('{"a":1}\n{"b":2}\n{"c"')))).toEqual(['{"a":1}', '{"b":2}']);
    expect(texts(decoder.push(bytes(':3}\n')))).toEqual(['{"c":3}']);
  });

  it('reassembles one frame delivered a byte at a time, multi-byte characters included', () => {
    const decoder = new FrameDecoder(1024);
    const input = bytes('{"text":"zoë 李雷 👍🏽"}\r\n');
    const out: FrameResult[] = [];
    for (const byte of input) out.push(...decoder.push(Uint8Array.of(byte)));
    expect(texts(out)).toEqual(['{"text":"zoë 李雷 👍🏽"}']);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('accepts a frame of exactly the limit and refuses one byte more without buffering it', () => {
    const decoder = new FrameDecoder(8);
    expect(texts(decoder.push(bytes('12345678\n')))).toEqual(['12345678']);
    // Reported as soon as the limit is passed, before the frame ends.
    expect(texts(decoder.push(bytes('1234567890')))).toEqual(['!frame_too_large']);
    expect(decoder.bufferedBytes).toBe(0);
    expect(texts(decoder.push(bytes('0000\nok\n')))).toEqual(['ok']);
  });

  it('counts the limit without the CR of a CRLF ending', () => {
    const decoder = new FrameDecoder(4);
    expect(texts(decoder.push(bytes('abcd\r\n')))).toEqual(['abcd']);
  });

  it('reports invalid UTF-8 and carries on with the next frame', () => {
    const decoder = new FrameDecoder(64);
    const bad = Buffer.concat([bytes('{"x":"'), Buffer.from([0xc3, 0x28]), bytes('"}\n{"y":1}\n')]);
    expect(texts(decoder.push(bad))).toEqual(['!invalid_utf8', '{"y":1}']);
  });

  it('does not hold on to the caller’s chunk memory', () => {
    const decoder = new FrameDecoder(64);
    const chunk = bytes('{"partial":');
    decoder.push(chunk);
    chunk.fill(0x41);
    expect(texts(decoder.push(bytes('1}\n')))).toEqual(['{"partial":1}']);
  });
});
