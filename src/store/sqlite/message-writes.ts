import type Database from 'better-sqlite3';
import type { NewMessage } from '../store.js';
import { prepared } from './database.js';

/**
 * A message's rows, the one write of every chat line. Its own module because two paths
 * take it: the `messages.append` operation (`write-ops.ts`), and the writer thread's packed
 * batch (`write-packing.ts`), which binds a message's fields straight from the batch
 * without rebuilding the message.
 */

/** A message's row; returns its id. The writer thread also calls it from a packed batch. */
export function insertMessage(
  db: Database.Database,
  ts: number,
  sender: string,
  senderAccountId: number | null,
  room: string | null,
  text: string,
): number {
  return Number(
    prepared(
      db,
      'INSERT INTO messages (ts, sender, sender_account, room, text) VALUES (?, ?, ?, ?, ?)',
    ).run(ts, sender, senderAccountId, room, text).lastInsertRowid,
  );
}

/** One recipient of message `id` (sent at `ts`). */
export function insertRecipient(
  db: Database.Database,
  id: number,
  ts: number,
  nick: string,
  accountId: number | null,
  guest: string | null,
  live: boolean,
): void {
  // A live recipient saw it as it arrived: delivered and read at once.
  const at = live ? ts : null;
  prepared(
    db,
    `INSERT OR IGNORE INTO message_recipients
       (message_id, recipient, recipient_account, recipient_guest, delivered_at, read_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
  ).run(id, nick, accountId, guest, at, at);
}

/** The message and its recipients (`messages.append`); returns the message's id. */
export function appendMessage(db: Database.Database, message: NewMessage): number {
  const id = insertMessage(
    db,
    message.ts,
    message.sender,
    message.senderAccountId,
    message.room,
    message.text,
  );
  for (const recipient of message.recipients)
    insertRecipient(
      db,
      id,
      message.ts,
      recipient.nick,
      recipient.accountId,
      recipient.guest ?? null,
      recipient.delivery === 'live',
    );
  return id;
}
