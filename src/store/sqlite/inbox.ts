import type Database from 'better-sqlite3';
import type { InboxEntry, InboxStore } from '../store.js';
import { type InboxRow, toInboxEntry } from '../rows.js';
import { translateError } from './database.js';

interface UpdateParams {
  at: number;
  id: number;
  account: number;
}

/** Recipients are joined with a separator no nickname can contain. */
const SEPARATOR = ' ';

const SELECT_ENTRY = `
  SELECT messages.id, messages.ts, messages.sender, messages.text, mine.read_at,
         (SELECT group_concat(recipient, '${SEPARATOR}') FROM message_recipients everyone
           WHERE everyone.message_id = messages.id) AS recipients
    FROM message_recipients mine JOIN messages ON messages.id = mine.message_id`;

/** An inbox row as SQLite returns it: the recipients in one string. */
type JoinedInboxRow = Omit<InboxRow, 'recipients'> & { recipients: string };

const toEntry = (row: JoinedInboxRow): InboxEntry =>
  toInboxEntry({ ...row, recipients: row.recipients.split(SEPARATOR) });

/** Each account's private messages and their delivered/read state. */
export class SqliteInboxStore implements InboxStore {
  private readonly countUnread: Database.Statement<[number], { n: number }>;
  private readonly selectUndelivered: Database.Statement<[number, number], JoinedInboxRow>;
  private readonly selectUnread: Database.Statement<[number, number], JoinedInboxRow>;
  private readonly selectAll: Database.Statement<[number, number], JoinedInboxRow>;
  private readonly updateDelivered: Database.Statement<[UpdateParams]>;
  private readonly updateRead: Database.Statement<[UpdateParams]>;

  constructor(private readonly db: Database.Database) {
    this.countUnread = db.prepare(
      'SELECT count(*) AS n FROM message_recipients WHERE recipient_account = ? AND read_at IS NULL',
    );
    this.selectUndelivered = db.prepare(
      `${SELECT_ENTRY} WHERE mine.recipient_account = ? AND mine.read_at IS NULL
         AND mine.delivered_at IS NULL AND messages.id <= ? ORDER BY messages.id`,
    );
    this.selectUnread = db.prepare(
      `${SELECT_ENTRY} WHERE mine.recipient_account = ? AND mine.read_at IS NULL
        ORDER BY messages.id LIMIT ?`,
    );
    this.selectAll = db.prepare(
      `SELECT * FROM (${SELECT_ENTRY} WHERE mine.recipient_account = ?
                       ORDER BY messages.id DESC LIMIT ?) ORDER BY id`,
    );
    this.updateDelivered = db.prepare(
      `UPDATE message_recipients SET delivered_at = @at
        WHERE message_id = @id AND recipient_account = @account AND delivered_at IS NULL`,
    );
    this.updateRead = db.prepare(
      `UPDATE message_recipients SET read_at = @at, delivered_at = coalesce(delivered_at, @at)
        WHERE message_id = @id AND recipient_account = @account AND read_at IS NULL`,
    );
  }

  async unreadCount(accountId: number): Promise<number> {
    return this.countUnread.get(accountId)!.n;
  }

  async undelivered(accountId: number, upToId: number): Promise<InboxEntry[]> {
    return this.selectUndelivered.all(accountId, upToId).map(toEntry);
  }

  async markDelivered(accountId: number, ids: readonly number[], at: number): Promise<void> {
    this.updateEach(this.updateDelivered, accountId, ids, at);
  }

  async list(accountId: number, options: { all: boolean; limit: number }): Promise<InboxEntry[]> {
    const statement = options.all ? this.selectAll : this.selectUnread;
    return statement.all(accountId, options.limit).map(toEntry);
  }

  async markRead(accountId: number, ids: readonly number[], at: number): Promise<void> {
    this.updateEach(this.updateRead, accountId, ids, at);
  }

  private updateEach(
    statement: Database.Statement<[UpdateParams]>,
    accountId: number,
    ids: readonly number[],
    at: number,
  ): void {
    if (ids.length === 0) return;
    try {
      this.db.transaction(() => {
        for (const id of ids) statement.run({ at, id, account: accountId });
      })();
    } catch (error) {
      throw translateError(error);
    }
  }
}
