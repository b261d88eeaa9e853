import type { PackedBatch } from './write-packing.js';

/** What the main thread asks of the writer thread (`writer-thread.ts`). */
export type WriterRequest =
  | {
      readonly kind: 'batch';
      readonly seq: number;
      /** How many writes `writes` holds: one transaction, one commit. */
      readonly count: number;
      /** The writes in order, packed flat (`write-packing.ts`). */
      readonly writes: PackedBatch;
    }
  /** A pragma on the write connection (tests inject faults: a full disk, a read-only file). */
  | { readonly kind: 'pragma'; readonly seq: number; readonly text: string }
  | { readonly kind: 'close'; readonly seq: number };

/** A failed write: the driver's error code (if any) and message, mapped again on arrival. */
export interface WriteFailure {
  readonly code: string | undefined;
  readonly message: string;
}

export type WriterReply =
  | {
      readonly kind: 'batch';
      readonly seq: number;
      /** Per write: its result, or its failure (each retried alone after a failed batch). */
      readonly results: readonly unknown[];
      /** Null when every write of the batch committed (the usual case). */
      readonly failures: readonly (WriteFailure | null)[] | null;
      /** Time in the transaction, commit and fsync included (ms). */
      readonly ms: number;
    }
  | {
      readonly kind: 'pragma';
      readonly seq: number;
      readonly result: unknown;
      readonly failure: WriteFailure | null;
    }
  | { readonly kind: 'closed'; readonly seq: number };
