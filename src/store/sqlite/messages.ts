import type Database from 'better-sqlite3';
import type { MessageStore, NewMessage, StoredMessage } from '../store.js';
import type { WriteBatcher } from './database.js';

interface MessageRow {
  id: number;
  ts: number;
  sender: string;
  sender_account: number | null;
  room: string | null;
  text: string;
}

export class SqliteMessageStore implements MessageStore {
  private readonly insertMessage: Database.Statement;
  private readonly insertRecipient: Database.Statement;
  private readonly selectRecent: Database.Statement<[string, number, number], MessageRow>;
  private readonly countAll: Database.Statement<[], { n: number }>;

  constructor(
    db: Database.Database,
    private readonly batcher: WriteBatcher,
  ) {
    this.insertMessage = db.prepare(
      'INSERT INTO messages (ts, sender, sender_account, room, text) VALUES (?, ?, ?, ?, ?)',
    );
    this.insertRecipient = db.prepare(
      'INSERT OR IGNORE INTO message_recipients (message_id, recipient, recipient_account) VALUES (?, ?, ?)',
    );
    this.selectRecent = db.prepare(
      `SELECT * FROM (SELECT * FROM messages WHERE room = ? AND id < ? ORDER BY id DESC LIMIT ?)
       ORDER BY id ASC`,
    );
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
      for (const recipient of message.recipients)
        this.insertRecipient.run(id, recipient.nick, recipient.accountId);
      return { ...message, id };
    });
  }

  async recentInRoom(room: string, limit: number, beforeId?: number): Promise<StoredMessage[]> {
    const rows = this.selectRecent.all(room, beforeId ?? Number.MAX_SAFE_INTEGER, limit);
    return rows.map((row) => ({
      id: row.id,
      ts: row.ts,
      sender: row.sender,
      senderAccountId: row.sender_account,
      room: row.room,
      recipients: [],
      text: row.text,
    }));
  }

  async count(): Promise<number> {
    return this.countAll.get()!.n;
  }
}
