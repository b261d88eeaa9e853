import type Database from 'better-sqlite3';
import type { CommitListener, MessageStore, NewMessage, StoredMessage } from '../store.js';
import { type MessageRow, toStoredRoomMessage } from '../rows.js';
import type { SqliteWriter } from './writer.js';

interface MissedParams {
  room: string;
  sinceTs: number;
  afterId: number;
  upToId: number;
  limit: number;
}

export class SqliteMessageStore implements MessageStore {
  private readonly selectRecent: Database.Statement<[string, number, number, number], MessageRow>;
  private readonly selectFirst: Database.Statement<[string, number, number, number], MessageRow>;
  private readonly selectMissed: Database.Statement<[MissedParams], MessageRow>;
  private readonly selectLastId: Database.Statement<[], { id: number | null }>;
  private readonly countAll: Database.Statement<[], { n: number }>;
  private newestId: number;
  /** One writer takes appends in call order and resolves each batch in order. */
  readonly appendsInOrder = true;

  constructor(
    db: Database.Database,
    private readonly writer: SqliteWriter,
  ) {
    // Newest first: a long read is taken in chunks (`readInChunks`) and put in order once.
    this.selectRecent = db.prepare(
      `SELECT * FROM messages WHERE room = ? AND id < ? AND id > ? ORDER BY id DESC LIMIT ?`,
    );
    this.selectFirst = db.prepare(
      `SELECT * FROM messages WHERE room = ? AND id > ? AND id < ? ORDER BY id ASC LIMIT ?`,
    );
    // The newest `limit` sent at or after `since`, read backwards on (room, ts) and stopping
    // there: never the room's older history. Not "the first message since then, and every
    // id after it": ids need not follow send times (a message stamped earlier may commit
    // later, on another node or behind a slow store), and that shortcut lost a message
    // stamped after `since` that committed before an earlier-stamped one.
    this.selectMissed = db.prepare(
      `SELECT * FROM (SELECT * FROM messages INDEXED BY messages_by_room_ts
                      WHERE room = @room AND ts >= @sinceTs AND id > @afterId AND id <= @upToId
                      ORDER BY ts DESC, id DESC LIMIT @limit)
       ORDER BY id ASC`,
    );
    this.selectLastId = db.prepare('SELECT max(id) AS id FROM messages');
    this.countAll = db.prepare('SELECT count(*) AS n FROM messages');
    this.newestId = this.selectLastId.get()?.id ?? 0;
  }

  append(message: NewMessage): Promise<StoredMessage> {
    return this.writer.write('messages.append', [message], this.appended);
  }

  appendThen(message: NewMessage, listener: CommitListener<StoredMessage>): void {
    this.writer.writeThen('messages.append', [message], listener, this.appended);
  }

  /** One function for every append, rather than a closure per message waiting to commit. */
  private readonly appended = (id: number, [message]: readonly [NewMessage]): StoredMessage => {
    if (id > this.newestId) this.newestId = id;
    return { ...message, id };
  };

  async recentInRoom(
    room: string,
    limit: number,
    beforeId?: number,
    afterId?: number,
  ): Promise<StoredMessage[]> {
    const floor = afterId ?? 0;
    const rows = await readInChunks(limit, beforeId ?? Number.MAX_SAFE_INTEGER, (before, count) =>
      this.selectRecent.all(room, before, floor, count),
    );
    return rows.reverse().map(toStoredRoomMessage);
  }

  async firstInRoom(
    room: string,
    limit: number,
    afterId: number,
    beforeId?: number,
  ): Promise<StoredMessage[]> {
    const ceiling = beforeId ?? Number.MAX_SAFE_INTEGER;
    const rows = await readInChunks(limit, afterId, (after, count) =>
      this.selectFirst.all(room, after, ceiling, count),
    );
    return rows.map(toStoredRoomMessage);
  }

  async missedInRoom(
    room: string,
    window: { sinceTs: number; afterId: number; upToId: number },
    limit: number,
  ): Promise<StoredMessage[]> {
    return this.selectMissed.all({ room, ...window, limit }).map(toStoredRoomMessage);
  }

  /**
   * The newest message whose commit the main thread has been told of: a message the writer
   * has committed but whose append has not resolved yet is not delivered yet either, so a
   * login taking this as its horizon gets it live, not in its replay as well.
   */
  async lastId(): Promise<number> {
    return this.newestId;
  }

  async count(): Promise<number> {
    return this.countAll.get()!.n;
  }
}

/**
 * Rows a read takes at a time. Reads run on the event loop (the writer thread only
 * writes); a history page of 500 read at once held it about 1.6 ms, and every chat message
 * waiting meanwhile paid that in its latency.
 */
export const READ_CHUNK_ROWS = 100;

/**
 * Reads up to `limit` rows through `read(from, count)` in chunks of `READ_CHUNK_ROWS`,
 * each starting past the last row of the one before (by id, in the read's direction),
 * letting the event loop run between chunks. As one read: SQLite's ids grow in commit
 * order and messages are never deleted, so a message committed between two chunks lies
 * beyond the first chunk in a newest-first read (never seen, as if read at the first
 * chunk's instant) and after every row read so far in an oldest-first one (as if read at
 * the last chunk's instant).
 */
async function readInChunks(
  limit: number,
  from: number,
  read: (from: number, count: number) => MessageRow[],
): Promise<MessageRow[]> {
  if (limit <= READ_CHUNK_ROWS) return read(from, limit);
  const rows: MessageRow[] = [];
  for (let cursor = from; rows.length < limit;) {
    const count = Math.min(READ_CHUNK_ROWS, limit - rows.length);
    const chunk = read(cursor, count);
    for (const row of chunk) rows.push(row);
    if (chunk.length < count) break;
    cursor = chunk[chunk.length - 1]!.id;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return rows;
}
