import type { MessageRecipient, NewMessage } from '../store.js';
import { WRITE_OPS, type WriteOpName } from './write-ops.js';

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
    out.push(recipient.nick, recipient.accountId, recipient.delivery === 'live' ? LIVE : STORED);
  }
}

/** One write read back from a packed batch, and where the next one starts. */
export interface UnpackedWrite {
  readonly op: WriteOpName;
  readonly args: readonly unknown[];
  readonly next: number;
}

/** Reads the write that starts at `at` (on the writer thread). */
export function unpackWrite(batch: PackedBatch, at: number): UnpackedWrite {
  const number = batch[at] as number;
  const op = OP_NAMES[number];
  if (op === undefined) throw new Error(`Unknown write operation number ${number}`);
  if (number !== APPEND) return { op, args: batch[at + 1] as unknown[], next: at + 2 };
  const count = batch[at + 6] as number;
  const recipients = new Array<MessageRecipient>(count);
  let position = at + 7;
  for (let index = 0; index < count; index++) {
    recipients[index] = {
      nick: batch[position] as string,
      accountId: batch[position + 1] as number | null,
      delivery: batch[position + 2] === LIVE ? 'live' : 'stored',
    };
    position += 3;
  }
  const message: NewMessage = {
    ts: batch[at + 1] as number,
    sender: batch[at + 2] as string,
    senderAccountId: batch[at + 3] as number | null,
    room: batch[at + 4] as string | null,
    text: batch[at + 5] as string,
    recipients,
  };
  return { op, args: [message], next: position };
}
