import type { InboxEntry, InboxStore } from '../store.js';
import { type InboxRow, toInboxEntry } from '../rows.js';
import { guarded, type Sql } from './database.js';

/** Each account's private messages and their delivered/read state. */
export class PostgresInboxStore implements InboxStore {
  constructor(private readonly sql: Sql) {}

  /**
   * The entries of one account's (or guest's) message_recipients rows matching `where`, or
   * in `window`. Every recipient of each message comes along, in byte order as SQLite
   * lists them.
   */
  private entries(
    owner: { readonly accountId: number } | { readonly guest: string },
    where: 'undelivered' | 'unread' | 'all',
    bound: number,
    window?: { readonly afterId: number; readonly upToId: number },
  ) {
    const sql = this.sql;
    const mine =
      'guest' in owner
        ? sql`mine.recipient_guest = ${owner.guest}`
        : sql`mine.recipient_account = ${owner.accountId}`;
    const filter = window
      ? sql`AND messages.id > ${window.afterId} AND messages.id <= ${window.upToId}`
      : where === 'undelivered'
        ? sql`AND mine.read_at IS NULL AND mine.delivered_at IS NULL AND messages.id <= ${bound}`
        : where === 'unread'
          ? sql`AND mine.read_at IS NULL`
          : sql``;
    const order =
      where === 'all'
        ? sql`ORDER BY messages.id DESC LIMIT ${bound}`
        : where === 'unread'
          ? sql`ORDER BY messages.id LIMIT ${bound}`
          : sql`ORDER BY messages.id`;
    return guarded(
      () => sql<InboxRow[]>`
        SELECT * FROM (
          SELECT messages.id, messages.ts, messages.sender, messages.text, mine.read_at,
                 (SELECT array_agg(everyone.recipient ORDER BY everyone.recipient COLLATE "C")
                    FROM message_recipients everyone
                   WHERE everyone.message_id = messages.id) AS recipients
            FROM message_recipients mine JOIN messages ON messages.id = mine.message_id
           WHERE ${mine} ${filter}
           ${order}) AS chosen
         ORDER BY id`,
    );
  }

  async unreadCount(accountId: number): Promise<number> {
    const [row] = await guarded(
      () => this.sql<{ n: number }[]>`
        SELECT count(*) AS n FROM message_recipients
         WHERE recipient_account = ${accountId} AND read_at IS NULL`,
    );
    return row?.n ?? 0;
  }

  async undelivered(accountId: number, upToId: number): Promise<InboxEntry[]> {
    return (await this.entries({ accountId }, 'undelivered', upToId)).map(toInboxEntry);
  }

  async markDelivered(accountId: number, ids: readonly number[], at: number): Promise<void> {
    if (ids.length === 0) return;
    await guarded(
      () => this.sql`
        UPDATE message_recipients SET delivered_at = ${at}
         WHERE message_id = ANY(${[...ids]}::bigint[]) AND recipient_account = ${accountId}
           AND delivered_at IS NULL`,
    );
  }

  async list(accountId: number, options: { all: boolean; limit: number }): Promise<InboxEntry[]> {
    return (await this.entries({ accountId }, options.all ? 'all' : 'unread', options.limit)).map(
      toInboxEntry,
    );
  }

  async markRead(accountId: number, ids: readonly number[], at: number): Promise<void> {
    if (ids.length === 0) return;
    await guarded(
      () => this.sql`
        UPDATE message_recipients
           SET read_at = ${at}, delivered_at = coalesce(delivered_at, ${at})
         WHERE message_id = ANY(${[...ids]}::bigint[]) AND recipient_account = ${accountId}
           AND read_at IS NULL`,
    );
  }

  async markUndelivered(accountId: number, ids: readonly number[]): Promise<void> {
    if (ids.length === 0) return;
    await guarded(
      () => this.sql`
        UPDATE message_recipients SET delivered_at = NULL, read_at = NULL
         WHERE message_id = ANY(${[...ids]}::bigint[]) AND recipient_account = ${accountId}`,
    );
  }

  async markUndeliveredSince(accountId: number, sinceTs: number): Promise<void> {
    await guarded(
      () => this.sql`
        UPDATE message_recipients mine SET delivered_at = NULL, read_at = NULL
          FROM messages
         WHERE messages.id = mine.message_id AND mine.recipient_account = ${accountId}
           AND (mine.delivered_at IS NOT NULL OR mine.read_at IS NOT NULL)
           AND messages.ts >= ${sinceTs}`,
    );
  }

  async forGuest(
    guest: string,
    window: { readonly afterId: number; readonly upToId: number },
    limit: number,
  ): Promise<InboxEntry[]> {
    return (await this.entries({ guest }, 'all', limit, window)).map(toInboxEntry);
  }
}
