import type Database from 'better-sqlite3';
import type { InboxEntry, InboxStore } from '../store.js';
import { type InboxRow, toInboxEntry } from '../rows.js';
import type { SqliteWriter } from './writer.js';

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
  private readonly selectGuest: Database.Statement<
    [string, number, number, number],
    JoinedInboxRow
  >;

  constructor(
    db: Database.Database,
    private readonly writer: SqliteWriter,
  ) {
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
    this.selectGuest = db.prepare(
      `SELECT * FROM (${SELECT_ENTRY} WHERE mine.recipient_guest = ? AND mine.message_id > ?
                         AND mine.message_id <= ?
                       ORDER BY mine.message_id DESC LIMIT ?) ORDER BY id`,
    );
  }

  async unreadCount(accountId: number): Promise<number> {
    return this.countUnread.get(accountId)!.n;
  }

  async undelivered(accountId: number, upToId: number): Promise<InboxEntry[]> {
    return this.selectUndelivered.all(accountId, upToId).map(toEntry);
  }

  markDelivered(accountId: number, ids: readonly number[], at: number): Promise<void> {
    if (ids.length === 0) return Promise.resolve();
    return this.writer.write('inbox.markDelivered', [accountId, ids, at]);
  }

  async list(accountId: number, options: { all: boolean; limit: number }): Promise<InboxEntry[]> {
    const statement = options.all ? this.selectAll : this.selectUnread;
    return statement.all(accountId, options.limit).map(toEntry);
  }

  markRead(accountId: number, ids: readonly number[], at: number): Promise<void> {
    if (ids.length === 0) return Promise.resolve();
    return this.writer.write('inbox.markRead', [accountId, ids, at]);
  }

  markUndelivered(accountId: number, ids: readonly number[]): Promise<void> {
    if (ids.length === 0) return Promise.resolve();
    return this.writer.write('inbox.markUndelivered', [accountId, ids]);
  }

  markUndeliveredSince(accountId: number, sinceTs: number): Promise<void> {
    return this.writer.write('inbox.markUndeliveredSince', [accountId, sinceTs]);
  }

  async forGuest(
    guest: string,
    window: { readonly afterId: number; readonly upToId: number },
    limit: number,
  ): Promise<InboxEntry[]> {
    return this.selectGuest.all(guest, window.afterId, window.upToId, limit).map(toEntry);
  }
}
