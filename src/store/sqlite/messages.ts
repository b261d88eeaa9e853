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
    this.selectRecent = db.prepare(
      `SELECT * FROM (SELECT * FROM messages WHERE room = ? AND id < ? AND id > ?
                      ORDER BY id DESC LIMIT ?)
       ORDER BY id ASC`,
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
    return this.selectRecent
      .all(room, beforeId ?? Number.MAX_SAFE_INTEGER, afterId ?? 0, limit)
      .map(toStoredRoomMessage);
  }

  async firstInRoom(
    room: string,
    limit: number,
    afterId: number,
    beforeId?: number,
  ): Promise<StoredMessage[]> {
    return this.selectFirst
      .all(room, afterId, beforeId ?? Number.MAX_SAFE_INTEGER, limit)
      .map(toStoredRoomMessage);
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
