import type Database from 'better-sqlite3';
import type { MessageStore, NewMessage, StoredMessage } from '../store.js';
import { type MessageRow, toStoredRoomMessage } from '../rows.js';
import type { WriteBatcher } from './database.js';

interface MissedParams {
  room: string;
  sinceTs: number;
  afterId: number;
  upToId: number;
  limit: number;
}

export class SqliteMessageStore implements MessageStore {
  private readonly insertMessage: Database.Statement;
  private readonly insertRecipient: Database.Statement;
  private readonly selectRecent: Database.Statement<[string, number, number, number], MessageRow>;
  private readonly selectMissed: Database.Statement<[MissedParams], MessageRow>;
  private readonly selectLastId: Database.Statement<[], { id: number | null }>;
  private readonly countAll: Database.Statement<[], { n: number }>;

  constructor(
    db: Database.Database,
    private readonly batcher: WriteBatcher,
  ) {
    this.insertMessage = db.prepare(
      'INSERT INTO messages (ts, sender, sender_account, room, text) VALUES (?, ?, ?, ?, ?)',
    );
    this.insertRecipient = db.prepare(
      `INSERT OR IGNORE INTO message_recipients
         (message_id, recipient, recipient_account, delivered_at, read_at) VALUES (?, ?, ?, ?, ?)`,
    );
    this.selectRecent = db.prepare(
      `SELECT * FROM (SELECT * FROM messages WHERE room = ? AND id < ? AND id > ?
                      ORDER BY id DESC LIMIT ?)
       ORDER BY id ASC`,
    );
    // The first message at or after `since` is found on (room, ts); the newest `limit`
    // from there on (room, id). Ids follow time, so neither step scans old history.
    this.selectMissed = db.prepare(
      `SELECT * FROM (SELECT * FROM messages
                      WHERE room = @room AND id > @afterId AND id <= @upToId
                        AND id >= coalesce((SELECT id FROM messages
                                             WHERE room = @room AND ts >= @sinceTs
                                             ORDER BY ts LIMIT 1), @upToId + 1)
                      ORDER BY id DESC LIMIT @limit)
       ORDER BY id ASC`,
    );
    this.selectLastId = db.prepare('SELECT max(id) AS id FROM messages');
    this.countAll = db.prepare('SELECT count(*) AS n FROM messages');
  }

  append(message: NewMessage): Promise<StoredMessage> {
    return this.batcher.enqueue(() => {
      const { lastInsertRowid } = this.insertMessage.run(
        message.ts,
        message.sender,
        message.senderAccountId,
        message.room,
        message.text,
      );
      const id = Number(lastInsertRowid);
      for (const recipient of message.recipients) {
        // A live recipient saw it as it arrived: delivered and read at once.
        const at = recipient.delivery === 'live' ? message.ts : null;
        this.insertRecipient.run(id, recipient.nick, recipient.accountId, at, at);
      }
      return { ...message, id };
    });
  }

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

  async missedInRoom(
    room: string,
    window: { sinceTs: number; afterId: number; upToId: number },
    limit: number,
  ): Promise<StoredMessage[]> {
    return this.selectMissed.all({ room, ...window, limit }).map(toStoredRoomMessage);
  }

  async lastId(): Promise<number> {
    return this.selectLastId.get()?.id ?? 0;
  }

  async count(): Promise<number> {
    return this.countAll.get()!.n;
  }
}
