import type { CommitListener, MessageStore, NewMessage, StoredMessage } from '../store.js';
import { type MessageRow, toStoredRoomMessage } from '../rows.js';
import { noTelemetry, type Telemetry } from '../../telemetry/telemetry.js';
import { guarded, translateError, type Sql } from './database.js';

interface PendingAppend {
  readonly message: NewMessage;
  readonly listener: CommitListener<StoredMessage>;
}

/**
 * Tells a listener its append's outcome; a listener that throws (it runs its caller's
 * fan-out) neither stops the rest of its batch from being told nor goes unnoticed.
 */
function tell(
  listener: CommitListener<StoredMessage>,
  error: Error | undefined,
  stored?: StoredMessage,
): void {
  try {
    if (error) listener.failed(error);
    else listener.committed(stored!);
  } catch (thrown) {
    queueMicrotask(() => {
      throw thrown;
    });
  }
}

/**
 * Messages in PostgreSQL. Appends are committed in batches: those made during one tick
 * share one transaction (one WAL flush), and one batch is in flight at a time, so on this
 * node ids follow the order appends were made and commit order. If a batch fails for a
 * reason other than the database being unavailable, each append is retried alone, so one
 * bad message cannot fail its neighbours.
 */
export class PostgresMessageStore implements MessageStore {
  private queue: PendingAppend[] = [];
  private flushing: Promise<void> | undefined;
  private scheduled = false;
  /** One batch in flight, ids drawn in call order, resolved in order (per node). */
  readonly appendsInOrder = true;
  /** Where each batch's commit time and size are reported (the operator's metrics). */
  telemetry: Telemetry = noTelemetry;

  constructor(private readonly sql: Sql) {}

  append(message: NewMessage): Promise<StoredMessage> {
    return new Promise<StoredMessage>((resolve, reject) => {
      this.appendThen(message, { committed: resolve, failed: reject });
    });
  }

  appendThen(message: NewMessage, listener: CommitListener<StoredMessage>): void {
    this.queue.push({ message, listener });
    this.schedule();
  }

  /** Resolves once every append made so far has been committed or has failed. */
  async drain(): Promise<void> {
    while (this.flushing || this.queue.length > 0) {
      if (!this.flushing) this.startFlush();
      await this.flushing;
    }
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (!this.flushing) this.startFlush();
    });
  }

  private startFlush(): void {
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    this.flushing = this.writeBatch(batch).finally(() => {
      this.flushing = undefined;
      if (this.queue.length > 0) this.schedule();
    });
  }

  private async writeBatch(batch: PendingAppend[]): Promise<void> {
    let stored: StoredMessage[];
    const started = performance.now();
    try {
      stored = await insertMessages(
        this.sql,
        batch.map((pending) => pending.message),
      );
    } catch (error) {
      const translated = translateError(error);
      if (batch.length === 1 || translated.name === 'StoreUnavailableError') {
        for (const pending of batch) tell(pending.listener, translated);
        return;
      }
      for (const pending of batch) await this.writeAlone(pending);
      return;
    }
    this.telemetry.storeCommitted((performance.now() - started) / 1000, batch.length);
    batch.forEach((pending, index) => tell(pending.listener, undefined, stored[index]!));
  }

  private async writeAlone(pending: PendingAppend): Promise<void> {
    try {
      const [stored] = await insertMessages(this.sql, [pending.message]);
      tell(pending.listener, undefined, stored!);
    } catch (error) {
      tell(pending.listener, translateError(error));
    }
  }

  async recentInRoom(
    room: string,
    limit: number,
    beforeId?: number,
    afterId?: number,
  ): Promise<StoredMessage[]> {
    const rows = await guarded(
      () => this.sql<MessageRow[]>`
        SELECT * FROM (SELECT id, ts, sender, sender_account, room, text FROM messages
                        WHERE room = ${room} AND id < ${beforeId ?? Number.MAX_SAFE_INTEGER}
                          AND id > ${afterId ?? 0}
                        ORDER BY id DESC LIMIT ${limit}) AS newest
         ORDER BY id ASC`,
    );
    return rows.map(toStoredRoomMessage);
  }

  async firstInRoom(
    room: string,
    limit: number,
    afterId: number,
    beforeId?: number,
  ): Promise<StoredMessage[]> {
    const rows = await guarded(
      () => this.sql<MessageRow[]>`
        SELECT id, ts, sender, sender_account, room, text FROM messages
         WHERE room = ${room} AND id > ${afterId} AND id < ${beforeId ?? Number.MAX_SAFE_INTEGER}
         ORDER BY id ASC LIMIT ${limit}`,
    );
    return rows.map(toStoredRoomMessage);
  }

  async missedInRoom(
    room: string,
    window: { sinceTs: number; afterId: number; upToId: number },
    limit: number,
  ): Promise<StoredMessage[]> {
    // As in SQLite: the newest `limit` sent at or after `since`, read backwards on
    // (room, ts), without assuming that ids follow send times (they do not across nodes).
    const rows = await guarded(
      () => this.sql<MessageRow[]>`
        SELECT * FROM (SELECT id, ts, sender, sender_account, room, text FROM messages
                        WHERE room = ${room} AND ts >= ${window.sinceTs}
                          AND id > ${window.afterId} AND id <= ${window.upToId}
                        ORDER BY ts DESC, id DESC LIMIT ${limit}) AS newest
         ORDER BY id ASC`,
    );
    return rows.map(toStoredRoomMessage);
  }

  async lastId(): Promise<number> {
    // Appends this node made and has not committed yet are not "committed messages".
    const [row] = await guarded(
      () => this.sql<{ id: number | null }[]>`SELECT max(id) AS id FROM messages`,
    );
    return row?.id ?? 0;
  }

  async count(): Promise<number> {
    const [row] = await guarded(
      () => this.sql<{ n: number }[]>`SELECT count(*) AS n FROM messages`,
    );
    return row?.n ?? 0;
  }
}

/**
 * Inserts messages and their recipients in one statement, so a batch costs one round trip
 * and one commit (its own transaction) whatever its size: ids are drawn from the sequence
 * and given to the messages in ascending order as listed, then both tables take their rows
 * from arrays. (Five round trips in a transaction, each a wake-up of the server process,
 * took most of a batch's time on a busy machine.) Both inserts see one snapshot and the
 * recipients' foreign key is checked at the statement's end, after the messages went in.
 */
async function insertMessages(sql: Sql, messages: readonly NewMessage[]): Promise<StoredMessage[]> {
  const positions: number[] = [];
  const nicks: string[] = [];
  const accounts: (number | null)[] = [];
  const guests: (string | null)[] = [];
  const seenAt: (number | null)[] = [];
  messages.forEach((message, index) => {
    for (const recipient of message.recipients) {
      positions.push(index + 1);
      nicks.push(recipient.nick);
      accounts.push(recipient.accountId);
      guests.push(recipient.guest ?? null);
      // A live recipient saw it as it arrived: delivered and read at once.
      seenAt.push(recipient.delivery === 'live' ? message.ts : null);
    }
  });
  const rows = await sql<{ id: number }[]>`
    WITH drawn AS (
      SELECT nextval(pg_get_serial_sequence('messages', 'id')) AS id
        FROM generate_series(1, ${messages.length})
    ), ids AS (
      SELECT id, row_number() OVER (ORDER BY id) AS n FROM drawn
    ), inserted AS (
      INSERT INTO messages (id, ts, sender, sender_account, room, text)
      SELECT ids.id, m.ts, m.sender, m.account, m.room, m.text
        FROM unnest(${messages.map((m) => m.ts)}::bigint[],
                    ${messages.map((m) => m.sender)}::text[],
                    ${messages.map((m) => m.senderAccountId)}::bigint[],
                    ${messages.map((m) => m.room)}::text[],
                    ${messages.map((m) => m.text)}::text[])
               WITH ORDINALITY AS m(ts, sender, account, room, text, n)
        JOIN ids USING (n)
    ), recipients AS (
      INSERT INTO message_recipients
             (message_id, recipient, recipient_account, recipient_guest, delivered_at, read_at)
      SELECT ids.id, r.nick, r.account, r.guest, r.at, r.at
        FROM unnest(${positions}::bigint[], ${nicks}::text[], ${accounts}::bigint[],
                    ${guests}::text[], ${seenAt}::bigint[]) AS r(n, nick, account, guest, at)
        JOIN ids USING (n)
      ON CONFLICT DO NOTHING
    )
    SELECT id FROM ids ORDER BY n`;
  return messages.map((message, index) => ({ ...message, id: rows[index]!.id }));
}
