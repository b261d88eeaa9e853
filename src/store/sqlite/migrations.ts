import type Database from 'better-sqlite3';

/**
 * Schema migrations, applied in order at start-up inside one transaction each. Append new
 * ones; never edit one that has shipped. `PRAGMA user_version` records how far a file got.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'messages and accounts',
    sql: `
      CREATE TABLE accounts (
        id            INTEGER PRIMARY KEY,
        name          TEXT    NOT NULL,
        name_key      TEXT    NOT NULL UNIQUE,
        password_hash TEXT    NOT NULL,
        role          TEXT    NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
        created_at    INTEGER NOT NULL,
        last_seen_at  INTEGER
      );
      CREATE TABLE messages (
        id             INTEGER PRIMARY KEY,
        ts             INTEGER NOT NULL,
        sender         TEXT    NOT NULL,
        sender_account INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
        room           TEXT,
        text           TEXT    NOT NULL
      );
      CREATE INDEX messages_by_room ON messages(room, id) WHERE room IS NOT NULL;
      CREATE TABLE message_recipients (
        message_id        INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        recipient         TEXT    NOT NULL,
        recipient_account INTEGER REFERENCES accounts(id) ON DELETE CASCADE,
        PRIMARY KEY (message_id, recipient)
      ) WITHOUT ROWID;
      CREATE INDEX message_recipients_by_account ON message_recipients(recipient_account, message_id);
    `,
  },
  {
    version: 2,
    name: 'login lockouts and unreported failed logins',
    sql: `
      -- Consecutive failed passwords for one nickname (account or not) from one address.
      CREATE TABLE login_failures (
        name_key     TEXT    NOT NULL,
        address      TEXT    NOT NULL,
        failures     INTEGER NOT NULL,
        locked_until INTEGER NOT NULL DEFAULT 0,
        last_at      INTEGER NOT NULL,
        PRIMARY KEY (name_key, address)
      ) WITHOUT ROWID;
      CREATE INDEX login_failures_by_last ON login_failures(last_at);
      -- Failed logins from one address over all nicknames, in a window (password spraying).
      CREATE TABLE address_failures (
        address      TEXT    PRIMARY KEY,
        failures     INTEGER NOT NULL,
        window_start INTEGER NOT NULL,
        locked_until INTEGER NOT NULL DEFAULT 0
      ) WITHOUT ROWID;
      -- Failed logins on an account not yet reported to its owner.
      CREATE TABLE unreported_failures (
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        address    TEXT    NOT NULL,
        count      INTEGER NOT NULL,
        last_at    INTEGER NOT NULL,
        PRIMARY KEY (account_id, address)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 3,
    name: 'rooms, blocks, inbox state',
    sql: `
      CREATE TABLE rooms (
        id             INTEGER PRIMARY KEY,
        name           TEXT    NOT NULL,
        name_key       TEXT    NOT NULL UNIQUE,
        owner_account  INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
        owner_name     TEXT    NOT NULL,
        topic          TEXT,
        created_at     INTEGER NOT NULL,
        history_floor  INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE room_members (
        room_id    INTEGER NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        joined_at  INTEGER NOT NULL,
        PRIMARY KEY (room_id, account_id)
      ) WITHOUT ROWID;
      CREATE TABLE blocks (
        account_id   INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        blocked_key  TEXT    NOT NULL,
        blocked_name TEXT    NOT NULL,
        created_at   INTEGER NOT NULL,
        PRIMARY KEY (account_id, blocked_key)
      ) WITHOUT ROWID;
      -- Finds where "missed since last seen" starts without scanning a room's history.
      CREATE INDEX messages_by_room_ts ON messages(room, ts) WHERE room IS NOT NULL;
      -- Per-recipient state of a private message: delivered (shown) and read (in /inbox).
      ALTER TABLE message_recipients ADD COLUMN delivered_at INTEGER;
      ALTER TABLE message_recipients ADD COLUMN read_at INTEGER;
      UPDATE message_recipients
         SET delivered_at = (SELECT ts FROM messages WHERE messages.id = message_id),
             read_at      = (SELECT ts FROM messages WHERE messages.id = message_id);
      CREATE INDEX message_recipients_unread
          ON message_recipients(recipient_account, message_id) WHERE read_at IS NULL;
    `,
  },
  {
    version: 4,
    name: 'administration: bans, suspensions, addresses, live settings, audit log',
    sql: `
      CREATE TABLE bans (
        id         INTEGER PRIMARY KEY,
        name_key   TEXT    NOT NULL,
        name       TEXT    NOT NULL,
        address    TEXT,
        reason     TEXT,
        created_at INTEGER NOT NULL,
        expires_at INTEGER,
        created_by TEXT    NOT NULL
      );
      CREATE INDEX bans_by_name ON bans(name_key);
      CREATE TABLE suspensions (
        name_key   TEXT    PRIMARY KEY,
        name       TEXT    NOT NULL,
        created_at INTEGER NOT NULL,
        created_by TEXT    NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE name_addresses (
        name_key     TEXT    PRIMARY KEY,
        address      TEXT    NOT NULL,
        last_used_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE live_settings (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE audit_log (
        id      INTEGER PRIMARY KEY,
        ts      INTEGER NOT NULL,
        actor   TEXT    NOT NULL,
        action  TEXT    NOT NULL,
        target  TEXT,
        details TEXT
      );
    `,
  },
  {
    version: 5,
    name: 'files',
    sql: `
      CREATE TABLE files (
        id                INTEGER PRIMARY KEY,
        storage_name      TEXT    NOT NULL UNIQUE,
        name              TEXT    NOT NULL,
        size              INTEGER NOT NULL CHECK (size >= 0),
        sha256            TEXT    NOT NULL,
        state             TEXT    NOT NULL CHECK (state IN ('uploading', 'ready')),
        sender            TEXT    NOT NULL,
        sender_account    INTEGER REFERENCES accounts(id) ON DELETE CASCADE,
        sender_session    TEXT,
        recipient         TEXT,
        recipient_account INTEGER REFERENCES accounts(id) ON DELETE CASCADE,
        recipient_session TEXT,
        created_at        INTEGER NOT NULL
      );
      CREATE INDEX files_by_recipient_account ON files(recipient_account) WHERE recipient_account IS NOT NULL;
      CREATE INDEX files_by_sender_account ON files(sender_account) WHERE sender_account IS NOT NULL;
      CREATE INDEX files_by_created ON files(created_at);
      CREATE TABLE file_tombstones (
        id             INTEGER PRIMARY KEY,
        sender_account INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        file_id        INTEGER NOT NULL,
        name           TEXT    NOT NULL,
        recipient      TEXT    NOT NULL,
        reason         TEXT    NOT NULL CHECK (reason IN ('declined', 'expired', 'fetched')),
        at             INTEGER NOT NULL
      );
      CREATE INDEX file_tombstones_by_sender ON file_tombstones(sender_account);
    `,
  },
  {
    version: 6,
    name: 'moderation switches: the lock and monitoring',
    sql: `
      -- Server-wide switches an admin turns on and off, kept across restarts. A switch with
      -- no row is off. Names: 'locked', 'monitoring'.
      CREATE TABLE moderation_switches (
        name  TEXT    PRIMARY KEY,
        is_on INTEGER NOT NULL CHECK (is_on IN (0, 1))
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 7,
    name: 'moderation case log; suspensions that lift by themselves',
    sql: `
      -- Every moderation action and admin note about a name, kept for good.
      CREATE TABLE moderation_cases (
        id         INTEGER PRIMARY KEY,
        name_key   TEXT    NOT NULL,
        name       TEXT    NOT NULL,
        action     TEXT    NOT NULL
                   CHECK (action IN ('warn', 'note', 'kick', 'suspend', 'forgive', 'ban', 'unban')),
        actor      TEXT    NOT NULL,
        reason     TEXT,
        ts         INTEGER NOT NULL,
        expires_at INTEGER
      );
      CREATE INDEX moderation_cases_by_name ON moderation_cases(name_key, action, ts);
      ALTER TABLE suspensions ADD COLUMN expires_at INTEGER;
    `,
  },
  {
    version: 8,
    name: 'per-name failed-login throttle; addresses each name logged in from',
    sql: `
      -- Failed logins for one name over every address, in a window (OWASP ASVS 2.2.1).
      CREATE TABLE name_failures (
        name_key     TEXT    PRIMARY KEY,
        failures     INTEGER NOT NULL,
        window_start INTEGER NOT NULL,
        last_at      INTEGER NOT NULL
      ) WITHOUT ROWID;
      -- Addresses (IPv6: /64) a name logged in from with its password: its owner's history.
      CREATE TABLE known_addresses (
        name_key     TEXT    NOT NULL,
        address      TEXT    NOT NULL,
        last_success INTEGER NOT NULL,
        PRIMARY KEY (name_key, address)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 9,
    name: 'confusable skeletons of account names',
    sql: `
      -- Filled at start for accounts made before (the skeleton is computed in the core).
      ALTER TABLE accounts ADD COLUMN name_skeleton TEXT;
      CREATE INDEX accounts_by_skeleton ON accounts(name_skeleton);
    `,
  },
  {
    version: 10,
    name: "guests' uploads counted by address",
    sql: `
      ALTER TABLE files ADD COLUMN sender_address TEXT;
      CREATE INDEX files_by_guest_address ON files(sender_address) WHERE sender_address IS NOT NULL;
    `,
  },
  {
    version: 11,
    name: 'files: the node taking each upload and holding each guest party',
    sql: `
      -- Restart recovery and sweeps touch only their own node's rows (a shared store).
      ALTER TABLE files ADD COLUMN node TEXT NOT NULL DEFAULT '';
      ALTER TABLE files ADD COLUMN recipient_node TEXT;
    `,
  },
  {
    version: 12,
    name: 'file ids never reused',
    sql: `
      -- Without AUTOINCREMENT, SQLite hands the highest id out again once its row is gone:
      -- three files sent one after another were all f1, so a late filegone or a stale
      -- /decline f1 could hit another file. Rebuilt with AUTOINCREMENT; the sequence
      -- starts past every id used so far (files and the tombstones of files gone).
      CREATE TABLE files_new (
        id                INTEGER PRIMARY KEY AUTOINCREMENT,
        storage_name      TEXT    NOT NULL UNIQUE,
        name              TEXT    NOT NULL,
        size              INTEGER NOT NULL CHECK (size >= 0),
        sha256            TEXT    NOT NULL,
        state             TEXT    NOT NULL CHECK (state IN ('uploading', 'ready')),
        sender            TEXT    NOT NULL,
        sender_account    INTEGER REFERENCES accounts(id) ON DELETE CASCADE,
        sender_session    TEXT,
        recipient         TEXT,
        recipient_account INTEGER REFERENCES accounts(id) ON DELETE CASCADE,
        recipient_session TEXT,
        created_at        INTEGER NOT NULL,
        sender_address    TEXT,
        node              TEXT    NOT NULL DEFAULT '',
        recipient_node    TEXT
      );
      INSERT INTO files_new (id, storage_name, name, size, sha256, state, sender, sender_account, sender_session, recipient, recipient_account, recipient_session, created_at, sender_address, node, recipient_node)
        SELECT id, storage_name, name, size, sha256, state, sender, sender_account, sender_session, recipient, recipient_account, recipient_session, created_at, sender_address, node, recipient_node FROM files;
      DROP TABLE files;
      ALTER TABLE files_new RENAME TO files;
      CREATE INDEX files_by_recipient_account ON files(recipient_account) WHERE recipient_account IS NOT NULL;
      CREATE INDEX files_by_sender_account ON files(sender_account) WHERE sender_account IS NOT NULL;
      CREATE INDEX files_by_created ON files(created_at);
      CREATE INDEX files_by_guest_address ON files(sender_address) WHERE sender_address IS NOT NULL;
      DELETE FROM sqlite_sequence WHERE name IN ('files', 'files_new');
      INSERT INTO sqlite_sequence (name, seq) VALUES ('files', max(
        (SELECT coalesce(max(id), 0) FROM files),
        (SELECT coalesce(max(file_id), 0) FROM file_tombstones)
      ));
    `,
  },
  {
    version: 13,
    name: 'id blocks: what nodes number themselves is unique across nodes and restarts',
    sql: `
      -- Each start of a node claims a block (AUTOINCREMENT: never handed out again, even
      -- once rows are gone); its event, session, connection and transfer ids are numbered
      -- inside it.
      CREATE TABLE id_blocks (
        block      INTEGER PRIMARY KEY AUTOINCREMENT,
        node       TEXT    NOT NULL,
        claimed_at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 14,
    name: 'files: guests by a guest key of their own, not their session id',
    sql: `
      -- A guest's files were tied to its session id; they are tied to a random key made
      -- for the session instead (Session.guestKey), so stored rows name no session. The
      -- session ids already there belong to sessions a restart ended: senders are
      -- detached, and files waiting for a guest get a key no session has, so restart
      -- recovery removes them with their bytes, as it would have.
      ALTER TABLE files RENAME COLUMN sender_session TO sender_guest;
      ALTER TABLE files RENAME COLUMN recipient_session TO recipient_guest;
      UPDATE files SET sender_guest = NULL WHERE sender_guest IS NOT NULL;
      UPDATE files SET recipient_guest = '(a session before migration 14)'
       WHERE recipient_guest IS NOT NULL;
    `,
  },
  {
    version: 15,
    name: 'account, room and ban ids never reused',
    sql: `
      -- Without AUTOINCREMENT, SQLite hands the highest id out again once its row is gone:
      -- the account registered after the newest one was deleted got its id, and with it
      -- that account's rooms and blocks on nodes that still remembered them. Rebuilding
      -- these tables with AUTOINCREMENT (as migration 12 did for files) would drop them
      -- under foreign keys that cascade; instead a trigger keeps the highest id each has
      -- handed out, and inserts number past it (write-ops.ts, nextId). Starts past every
      -- id there now.
      CREATE TABLE id_high_water (
        name TEXT    PRIMARY KEY,
        high INTEGER NOT NULL
      ) WITHOUT ROWID;
      INSERT INTO id_high_water (name, high)
        SELECT 'accounts', coalesce(max(id), 0) FROM accounts
        UNION ALL SELECT 'rooms', coalesce(max(id), 0) FROM rooms
        UNION ALL SELECT 'bans', coalesce(max(id), 0) FROM bans;
      CREATE TRIGGER accounts_id_high_water AFTER INSERT ON accounts BEGIN
        UPDATE id_high_water SET high = max(high, new.id) WHERE name = 'accounts';
      END;
      CREATE TRIGGER rooms_id_high_water AFTER INSERT ON rooms BEGIN
        UPDATE id_high_water SET high = max(high, new.id) WHERE name = 'rooms';
      END;
      CREATE TRIGGER bans_id_high_water AFTER INSERT ON bans BEGIN
        UPDATE id_high_water SET high = max(high, new.id) WHERE name = 'bans';
      END;
    `,
  },
  {
    version: 16,
    name: "private messages: a guest recipient's key",
    sql: `
      -- A guest's private messages are read back by its key (InboxStore.forGuest) when its
      -- session resumes on another node after its own died: the nickname alone could name
      -- another guest who held it before or since. Rows stored before have no key.
      ALTER TABLE message_recipients ADD COLUMN recipient_guest TEXT;
      CREATE INDEX message_recipients_by_guest ON message_recipients(recipient_guest, message_id)
        WHERE recipient_guest IS NOT NULL;
    `,
  },
];

export function migrate(db: Database.Database): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (const migration of MIGRATIONS) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    })();
  }
  return db.pragma('user_version', { simple: true }) as number;
}
