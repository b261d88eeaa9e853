/**
 * How a node numbers what it makes itself: events, sessions, connections (links) and
 * transfers. Each number is unique across every node sharing the store and across
 * restarts, and never handed out again, without asking anyone per id:
 *
 *   id = block × 2³² + n,   n = 1 … 2³² − 1
 *
 * The block comes from the store (`IdBlockStore.claim`: 1, 2, 3, … for the life of the
 * backend, never twice); n counts within it. Blocks stay below 2²¹, so every id is a safe
 * JavaScript integer (below 2⁵³) and travels as a plain JSON number. A node takes a new
 * block at each start and, well before its block runs out (half way), the next one, so
 * the hot path (`next`) never waits: one addition and one comparison.
 *
 * Event ids are these numbers; session, connection and transfer ids are them behind a
 * letter (`s…`, `c…`, `t…`). Ids of one kind made by one node grow, but nothing may rely on
 * that: events from several nodes interleave, and resume finds an event by equality.
 */
export const BLOCK_BITS = 32;

export type ClaimBlock = () => Promise<number>;

export class NodeIds {
  /** `block × 2³²`: added to the counter. */
  private base: number;
  private n = 0;
  private readonly size: number;
  /** When `next` looks at the block again: half way (fetch the next), then at its end. */
  private checkAt: number;
  private spare: number | undefined;
  private fetching = false;

  private constructor(
    block: number,
    private readonly claim: ClaimBlock,
    private readonly onError: (error: unknown) => void,
    private readonly bits: number,
  ) {
    this.size = 2 ** bits;
    this.checkAt = this.size / 2;
    this.base = this.baseOf(block);
  }

  /**
   * Claims this node's first block. `onError` hears a failed claim of a later block (the
   * claim is tried again further on; the node runs out only after 2³¹ more ids).
   */
  static async start(
    claim: ClaimBlock,
    onError: (error: unknown) => void,
    /** Smaller blocks, for tests that run one out; ids stay safe integers either way. */
    blockBits = BLOCK_BITS,
  ): Promise<NodeIds> {
    return new NodeIds(await claim(), claim, onError, blockBits);
  }

  /** The block ids are numbered in now. */
  get block(): number {
    return this.base / this.size;
  }

  /** A number no node sharing the store has used or will use. */
  next(): number {
    if (++this.n >= this.checkAt) this.turn();
    return this.base + this.n;
  }

  session(): string {
    return `s${this.next()}`;
  }

  link(): string {
    return `c${this.next()}`;
  }

  transfer(): string {
    return `t${this.next()}`;
  }

  private turn(): void {
    if (this.n < this.size) {
      // Half way or beyond: make sure the next block is coming, and look again later.
      this.fetchSpare();
      this.checkAt = Math.min(this.n + Math.max(1, this.size / 64), this.size);
      return;
    }
    if (this.spare === undefined) {
      this.n--;
      this.fetchSpare();
      throw new Error('This node has used its whole id block and could not claim another');
    }
    this.base = this.baseOf(this.spare);
    this.spare = undefined;
    this.n = 1;
    this.checkAt = this.size / 2;
  }

  private fetchSpare(): void {
    if (this.spare !== undefined || this.fetching) return;
    this.fetching = true;
    this.claim().then(
      (block) => {
        this.fetching = false;
        this.spare = block;
      },
      (error: unknown) => {
        this.fetching = false;
        this.onError(error);
      },
    );
  }

  private baseOf(block: number): number {
    // The first block whose ids would pass Number.MAX_SAFE_INTEGER (2^53 - 1).
    const limit = 2 ** (53 - this.bits);
    if (!Number.isSafeInteger(block) || block < 1 || block >= limit)
      throw new Error(`The store handed out id block ${block}; blocks run from 1 to ${limit - 1}`);
    return block * this.size;
  }
}
