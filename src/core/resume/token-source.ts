import { randomFillSync } from 'node:crypto';

/** Random bytes drawn from the system's CSPRNG at once: room for 227 tokens of 18 bytes. */
const POOL_BYTES = 4096;

/**
 * Random tokens, base64url, from a pool of CSPRNG bytes filled a few KiB at a time (as
 * Node's own `randomUUID` does): a `randomBytes` call per login cost 6 µs here and 7% of
 * the server's time while 10,000 guests logged in. Each byte serves one token only and is
 * zeroed once read.
 */
export class TokenSource {
  private readonly pool = Buffer.allocUnsafe(POOL_BYTES);
  private used = POOL_BYTES;

  take(bytes: number): string {
    if (bytes > POOL_BYTES) throw new RangeError(`A token has at most ${POOL_BYTES} bytes`);
    if (this.used + bytes > POOL_BYTES) {
      randomFillSync(this.pool);
      this.used = 0;
    }
    const start = this.used;
    this.used += bytes;
    const token = this.pool.toString('base64url', start, this.used);
    this.pool.fill(0, start, this.used);
    return token;
  }
}
