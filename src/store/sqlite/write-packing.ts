import type Database from 'better-sqlite3';
import type { NewMessage } from '../store.js';
import { insertMessage, insertRecipient } from './message-writes.js';
import { WRITE_OPS, type WriteOpName } from './write-ops.js';

type Operation = (db: Database.Database, ...args: never[]) => unknown;

/**
 * How a batch of writes crosses to the writer thread: one flat array. Each write is its
 * operation's number followed by its arguments; a message (the write of every chat line)
 * is spread into plain fields instead of going as an object with a nested recipients
 * array. `postMessage` clones what it is given, and cloning an object graph costs per
 * object and per property name on both threads: a message as an object measured about
 * 7 µs of serialising and deserialising, its fields in a flat array about 0.5 µs
 * (bench/core-pm.ts; docs/benchmarks.md). Other writes are rare and go as their argument
 * array, cloned as before.
 */
export type PackedBatch = unknown[];

/** Operation numbers: the same module on both threads gives the same order. */
const OP_NAMES = Object.keys(WRITE_OPS) as WriteOpName[];
const OP_NUMBERS = new Map(OP_NAMES.map((name, index) => [name, index]));
const APPEND = OP_NUMBERS.get('messages.append')!;
/** A recipient's delivery as a number: 1 live, 0 stored. */
const LIVE = 1;
const STORED = 0;
/** Each recipient's fields in a packed append: nick, account, guest key, delivery. */
const RECIPIENT_FIELDS = 4;

/** Appends one write to `out`. */
export function packWrite(out: PackedBatch, op: WriteOpName, args: readonly unknown[]): void {
  const number = OP_NUMBERS.get(op);
  if (number === undefined) throw new Error(`Unknown write operation ${op}`);
  out.push(number);
  if (number !== APPEND) {
    out.push(args);
    return;
  }
  const message = args[0] as NewMessage;
  const { recipients } = message;
  out.push(
    message.ts,
    message.sender,
    message.senderAccountId,
    message.room,
    message.text,
    recipients.length,
  );
  for (let index = 0; index < recipients.length; index++) {
    const recipient = recipients[index]!;
    out.push(
      recipient.nick,
      recipient.accountId,
      recipient.guest ?? null,
      recipient.delivery === 'live' ? LIVE : STORED,
    );
  }
}

/** Where the write that starts at `at` ends (the next one starts). */
export function packedWriteEnd(batch: PackedBatch, at: number): number {
  if (batch[at] !== APPEND) return at + 2;
  return at + 7 + RECIPIENT_FIELDS * (batch[at + 6] as number);
}

/**
 * Runs the write that starts at `at` on the writer thread's connection and returns its
 * result. A message is inserted straight from the batch's fields: no message, recipient
 * or argument objects are rebuilt for it, since the thread only binds them.
 */
export function runPackedWrite(db: Database.Database, batch: PackedBatch, at: number): unknown {
  const number = batch[at] as number;
  if (number !== APPEND) {
    const op = OP_NAMES[number];
    if (op === undefined) throw new Error(`Unknown write operation number ${number}`);
    return (WRITE_OPS[op] as unknown as Operation)(db, ...(batch[at + 1] as never[]));
  }
  const ts = batch[at + 1] as number;
  const id = insertMessage(
    db,
    ts,
    batch[at + 2] as string,
    batch[at + 3] as number | null,
    batch[at + 4] as string | null,
    batch[at + 5] as string,
  );
  const end = at + 7 + RECIPIENT_FIELDS * (batch[at + 6] as number);
  for (let position = at + 7; position < end; position += RECIPIENT_FIELDS)
    insertRecipient(
      db,
      id,
      ts,
      batch[position] as string,
      batch[position + 1] as number | null,
      batch[position + 2] as string | null,
      batch[position + 3] === LIVE,
    );
  return id;
}
