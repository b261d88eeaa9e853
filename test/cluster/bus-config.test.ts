import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, ServerConfig } from '../../src/config/config.js';
import { startServer } from '../../src/server/server.js';
import { makeDataDir } from '../helpers/server.js';

describe('bus and node id settings', () => {
  it('default to the in-process bus and a random node id', () => {
    const config = ServerConfig.load({ env: {} });
    expect(config.server.bus).toEqual({ kind: 'local' });
    expect(config.server.nodeId).toBeUndefined();
  });

  it('come from the flag, then CONFAB_BUS and CONFAB_NODE_ID, then the file', () => {
    const dir = makeDataDir();
    const file = path.join(dir, 'confab.yaml');
    writeFileSync(file, 'bus:\n  url: redis://file:6379/2\nnodeId: from-file\n');
    const fromFile = ServerConfig.load({ flags: { config: file }, env: {} }).server;
    expect(fromFile.bus).toEqual({ kind: 'redis', url: 'redis://file:6379/2' });
    expect(fromFile.nodeId).toBe('from-file');
    const env = { CONFAB_BUS: 'redis://env:6379/1', CONFAB_NODE_ID: 'from-env' };
    const fromEnv = ServerConfig.load({ flags: { config: file }, env }).server;
    expect(fromEnv).toMatchObject({ bus: { url: 'redis://env:6379/1' }, nodeId: 'from-env' });
    const fromFlags = ServerConfig.load({
      flags: { config: file, bus: 'local', nodeId: 'flag.1' },
      env,
    }).server;
    expect(fromFlags).toMatchObject({ bus: { kind: 'local' }, nodeId: 'flag.1' });
  });

  it('are refused with the key named when wrong', () => {
    const refused = (flags: { bus?: string; nodeId?: string }) => {
      try {
        ServerConfig.load({ flags, env: {} });
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).key;
      }
      throw new Error('accepted');
    };
    expect(refused({ bus: 'amqp://h' })).toBe('bus');
    expect(refused({ nodeId: 'has space' })).toBe('nodeId');
    expect(refused({ nodeId: 'x'.repeat(65) })).toBe('nodeId');
  });

  it('names the node on the in-process bus too', async () => {
    const config = ServerConfig.load({
      flags: { host: '127.0.0.1', port: 0, data: makeDataDir(), nodeId: 'solo' },
      env: {},
    });
    const server = await startServer(config, { webPort: false, metrics: false });
    try {
      expect(server.core.bus.nodeId).toBe('solo');
    } finally {
      await server.stop(0);
    }
  });

  it('refuse to start when Redis cannot be reached', async () => {
    const config = ServerConfig.load({
      flags: {
        host: '127.0.0.1',
        port: 0,
        data: makeDataDir(),
        bus: 'redis://127.0.0.1:1/0',
      },
      env: {},
    });
    await expect(startServer(config, { webPort: false, metrics: false })).rejects.toThrow(
      /cannot reach Redis/,
    );
  });
});
