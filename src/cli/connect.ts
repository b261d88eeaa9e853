import { readFileSync } from 'node:fs';
import type { ConnectOptions } from '../client/client.js';
import { EXIT, runLineMode } from '../client/line-mode.js';
import { SettingsStore } from '../client/settings.js';
import { tlsTrust } from '../client/tls-trust.js';
import type { ConnectFlags } from './flags.js';

export const DEFAULT_PORT = 7777;

function readPasswordFile(file: string): string {
  return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
}

/** Accepts `HOST PORT`, `HOST:PORT`, `[v6]:PORT` or just `HOST`. */
export function parseTarget(
  host: string | undefined,
  port: number | undefined,
): { host: string; port: number } | undefined {
  if (host === undefined) return undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(host);
  if (bracketed) return { host: bracketed[1]!, port: port ?? Number(bracketed[2] ?? DEFAULT_PORT) };
  const colon = host.lastIndexOf(':');
  if (colon > 0 && host.indexOf(':') === colon && /^\d+$/.test(host.slice(colon + 1)))
    return { host: host.slice(0, colon), port: port ?? Number(host.slice(colon + 1)) };
  return { host, port: port ?? DEFAULT_PORT };
}

export async function runConnect(
  host: string | undefined,
  port: number | undefined,
  flags: ConnectFlags,
): Promise<number> {
  const target = parseTarget(host, port);
  let password: string | undefined;
  if (flags.passwordFile) {
    try {
      password = readPasswordFile(flags.passwordFile);
    } catch (error) {
      console.error(`confab: cannot read the password file: ${(error as Error).message}`);
      return EXIT.usage;
    }
  }
  const useTls = flags.tls === true || flags.ca !== undefined;
  if (flags.ca !== undefined) {
    try {
      readFileSync(flags.ca);
    } catch (error) {
      console.error(`confab: cannot read the CA certificate: ${(error as Error).message}`);
      return EXIT.usage;
    }
  }
  /** Plain TCP, or TLS verified by the system CAs, `--ca`, or a pin (tls-trust.ts). */
  const connectOptions = (where: { host: string; port: number }): ConnectOptions => {
    if (!useTls) return { host: where.host, port: where.port };
    const trust = tlsTrust({
      host: where.host,
      port: where.port,
      ...(flags.ca !== undefined && { caFile: flags.ca }),
      notice: (text) => console.error(text),
    });
    return {
      host: where.host,
      port: where.port,
      tls: trust.tls,
      ...(trust.verifyTls && { verifyTls: trust.verifyTls }),
    };
  };
  // A person at a terminal gets the full screen; pipes, scripts and --json get line mode.
  if (process.stdin.isTTY && process.stdout.isTTY && flags.json !== true) {
    const { runFullScreen } = await import('../client/tui/run.js');
    return runFullScreen({
      target,
      defaultPort: DEFAULT_PORT,
      nick: flags.nick,
      password,
      connectOptions,
      settings: new SettingsStore(),
      ...(flags.downloads !== undefined && { downloadsDir: flags.downloads }),
    });
  }
  if (!target) {
    console.error('confab: which server? Usage: confab connect HOST [PORT] --nick NAME');
    return EXIT.usage;
  }
  if (!flags.nick) {
    console.error('confab: --nick NAME is required in line mode');
    return EXIT.usage;
  }
  return runLineMode({
    connect: connectOptions(target),
    nick: flags.nick,
    ...(password !== undefined && { password }),
    takeover: flags.takeover === true,
    json: flags.json === true,
    ...(flags.downloads !== undefined && { downloadsDir: flags.downloads }),
    input: process.stdin,
    output: process.stdout,
    errors: process.stderr,
  });
}
