import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type tls from 'node:tls';
import { userConfigDir } from './config-dir.js';

export const KNOWN_HOSTS_FILE = 'known_hosts.json';

interface KnownHosts {
  version: 1;
  hosts: Record<string, { fingerprint256: string; firstSeen: string }>;
}

/** The server presented a certificate other than the one pinned for it. */
export class CertificateChangedError extends Error {
  constructor(
    readonly server: string,
    readonly pinned: string,
    readonly presented: string,
    readonly file: string,
  ) {
    super(
      [
        `WARNING: THE CERTIFICATE OF ${server} HAS CHANGED. Refusing to connect.`,
        `  pinned:    SHA256 ${pinned}`,
        `  presented: SHA256 ${presented}`,
        'Someone may be intercepting the connection (a man-in-the-middle attack), or the',
        "server's certificate was replaced. If you know it was replaced, remove the entry",
        `for ${server} from ${file} and connect again.`,
      ].join('\n'),
    );
    this.name = 'CertificateChangedError';
  }
}

export interface TlsTrustOptions {
  readonly host: string;
  readonly port: number;
  /** A CA certificate (PEM) to verify the server against instead of the system CAs. */
  readonly caFile?: string;
  /** Where known_hosts.json lives (default: the user's Confab config folder). */
  readonly configDir?: string;
  /** Told when a certificate is pinned on first use. */
  readonly notice?: (line: string) => void;
}

export interface TlsTrust {
  readonly tls: tls.ConnectionOptions;
  readonly verifyTls?: (socket: tls.TLSSocket) => Error | undefined;
}

/**
 * How `confab connect --tls` decides to trust a server. With `--ca F`: the chain must
 * lead to that CA and the name must match, nothing else. Otherwise a certificate the
 * system CAs vouch for (name included) is trusted; any other (a self-signed one) is
 * trusted on first use, like SSH: its SHA-256 fingerprint is pinned in known_hosts.json
 * under HOST:PORT, and a different one later is refused with a warning.
 */
export function tlsTrust(options: TlsTrustOptions): TlsTrust {
  if (options.caFile !== undefined)
    return { tls: { ca: readFileSync(options.caFile), rejectUnauthorized: true } };
  const file = path.join(options.configDir ?? userConfigDir(), KNOWN_HOSTS_FILE);
  const server = `${options.host}:${options.port}`;
  return {
    // Verification is done below, so a self-signed certificate can be pinned.
    tls: { rejectUnauthorized: false },
    verifyTls(socket) {
      if (socket.authorized) return undefined;
      try {
        return checkPin(socket);
      } catch (error) {
        return new Error(
          `Cannot check the certificate pin in ${file}: ${(error as Error).message}`,
        );
      }
    },
  };

  function checkPin(socket: tls.TLSSocket): Error | undefined {
    const presented = socket.getPeerCertificate().fingerprint256;
    if (!presented) return new Error(`${server} presented no certificate`);
    const known = readKnownHosts(file);
    const pinned = known.hosts[server]?.fingerprint256;
    if (pinned === presented) return undefined;
    if (pinned !== undefined) return new CertificateChangedError(server, pinned, presented, file);
    known.hosts[server] = { fingerprint256: presented, firstSeen: new Date().toISOString() };
    writeKnownHosts(file, known);
    options.notice?.(
      `The certificate of ${server} is not signed by a known authority (${String(socket.authorizationError)}).\n` +
        `Trusting it on first use: SHA256 ${presented}\n` +
        `(pinned in ${file}; compare with the fingerprint your server printed)`,
    );
    return undefined;
  }
}

function readKnownHosts(file: string): KnownHosts {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { version: 1, hosts: {} };
  }
  const parsed = JSON.parse(text) as Partial<KnownHosts>;
  return { version: 1, hosts: parsed.hosts ?? {} };
}

function writeKnownHosts(file: string, known: KnownHosts): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(known, null, 2) + '\n', { mode: 0o600 });
  renameSync(temporary, file);
}
