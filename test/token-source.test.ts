import { describe, expect, it } from 'vitest';
import { TokenSource } from '../src/core/resume/token-source.js';

describe('resume tokens', () => {
  it('are 24 base64url characters for 18 bytes, never repeated across pool refills', () => {
    const source = new TokenSource();
    const seen = new Set<string>();
    // Several pools' worth (4096 bytes each holds 227 tokens of 18 bytes).
    for (let i = 0; i < 2000; i++) {
      const token = source.take(18);
      expect(token).toMatch(/^[A-Za-z0-9_-]{24}$/);
      seen.add(token);
    }
    expect(seen.size).toBe(2000);
  });

  it('draw fresh bytes for each token: no token is all zeros or shares its bytes', () => {
    const source = new TokenSource();
    const decoded = Array.from({ length: 500 }, () => Buffer.from(source.take(18), 'base64url'));
    for (const bytes of decoded) expect(bytes.length).toBe(18);
    // A zeroed (already used) slice handed out again would show up as all zeros.
    expect(decoded.some((bytes) => bytes.every((byte) => byte === 0))).toBe(false);
    // 144-bit values: any two equal halves would mean reused pool bytes.
    const halves = new Set(decoded.map((bytes) => bytes.subarray(0, 9).toString('hex')));
    expect(halves.size).toBe(decoded.length);
  });

  it('refuse a token larger than the pool', () => {
    expect(() => new TokenSource().take(5000)).toThrow(RangeError);
  });
});
