import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, ServerConfig } from '../../src/config/config.js';
import { describeStore } from '../../src/server/open-store.js';
import { makeDataDir } from '../helpers/server.js';

describe('store settings', () => {
  it('default to SQLite in the data directory', () => {
    expect(ServerConfig.load({ env: {} }).server.store).toEqual({ kind: 'sqlite' });
    expect(ServerConfig.load({ flags: { store: 'sqlite' } }).server.store).toEqual({
      kind: 'sqlite',
    });
  });

  it('come from the flag, then CONFAB_* variables, then the file', () => {
    const dir = makeDataDir();
    const file = path.join(dir, 'confab.yaml');
    writeFileSync(
      file,
      'store:\n  url: postgres://file@h/db\n  poolSize: 4\n  statementTimeoutSeconds: 2\n',
    );
    expect(ServerConfig.load({ flags: { config: file }, env: {} }).server.store).toEqual({
      kind: 'postgres',
      url: 'postgres://file@h/db',
      poolSize: 4,
      statementTimeoutMs: 2000,
    });
    const env = { CONFAB_STORE: 'postgres://env@h/db', CONFAB_STORE_POOL_SIZE: '7' };
    expect(ServerConfig.load({ flags: { config: file }, env }).server.store).toMatchObject({
      url: 'postgres://env@h/db',
      poolSize: 7,
    });
    expect(
      ServerConfig.load({ flags: { config: file, store: 'postgresql://flag@h/db' }, env }).server
        .store,
    ).toMatchObject({ url: 'postgresql://flag@h/db' });
  });

  it('are refused with the key named when wrong', () => {
    const load = (env: Record<string, string>) => () => ServerConfig.load({ env });
    expect(load({ CONFAB_STORE: 'mysql://x/y' })).toThrow(ConfigError);
    expect(load({ CONFAB_STORE: 'postgres://x/y', CONFAB_STORE_POOL_SIZE: '0' })).toThrow(
      /store.poolSize/,
    );
    expect(load({ CONFAB_STORE_POOL_SIZE: '3' })).toThrow(/for a PostgreSQL store/);
  });

  it('are shown without the password', () => {
    expect(
      describeStore(
        { kind: 'postgres', url: 'postgres://u:secret@h/db', poolSize: 1, statementTimeoutMs: 1 },
        '/d',
      ),
    ).toBe('PostgreSQL postgres://u:***@h/db');
    expect(describeStore({ kind: 'sqlite' }, '/d')).toBe('SQLite in /d');
  });
});
