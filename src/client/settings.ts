import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { userConfigDir } from './config-dir.js';

/**
 * Per-server settings the client remembers between runs (the last nickname used), in
 * `settings.json` in the user's config folder. TLS pins live beside it in
 * `known_hosts.json`. A damaged file is ignored rather than stopping the client.
 */
const serverSettings = z.object({ nick: z.string().optional(), lastUsed: z.number().optional() });
const settingsFile = z.object({
  lastServer: z.string().optional(),
  servers: z.record(z.string(), serverSettings).default({}),
});

export type ServerSettings = z.infer<typeof serverSettings>;

export function serverKey(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export class SettingsStore {
  readonly file: string;

  constructor(dir: string = userConfigDir()) {
    this.file = path.join(dir, 'settings.json');
  }

  private read(): z.infer<typeof settingsFile> {
    try {
      const parsed = settingsFile.safeParse(JSON.parse(readFileSync(this.file, 'utf8')));
      if (parsed.success) return parsed.data;
    } catch {
      // Missing or unreadable: start afresh.
    }
    return { servers: {} };
  }

  /** The server used last, as `host:port`. */
  lastServer(): string | undefined {
    return this.read().lastServer;
  }

  forServer(host: string, port: number): ServerSettings {
    return this.read().servers[serverKey(host, port)] ?? {};
  }

  /** Records a successful login; a failure to write is not worth stopping a chat for. */
  remember(host: string, port: number, settings: ServerSettings, now = Date.now()): boolean {
    const current = this.read();
    const key = serverKey(host, port);
    current.servers[key] = { ...current.servers[key], ...settings, lastUsed: now };
    current.lastServer = key;
    try {
      mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
      // Write then rename, so a crash never leaves half a file.
      const temp = `${this.file}.${process.pid}.tmp`;
      writeFileSync(temp, JSON.stringify(current, null, 2) + '\n', { mode: 0o600 });
      renameSync(temp, this.file);
      return true;
    } catch {
      return false;
    }
  }
}
