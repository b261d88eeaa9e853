import type { Command } from 'commander';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { generate } from 'selfsigned';

export interface SelfSignedCertificate {
  /** PEM certificate. */
  readonly cert: string;
  /** PEM private key (PKCS#8). */
  readonly key: string;
  /** SHA-256 fingerprint, as clients show and pin it (`AB:CD:…`). */
  readonly fingerprint256: string;
}

/** The names a first-setup certificate covers unless told otherwise. */
export function defaultCertificateHosts(): string[] {
  return [...new Set(['localhost', '127.0.0.1', '::1', os.hostname()])];
}

/**
 * A self-signed certificate for a first setup (an ECDSA P-256 key, SHA-256 signature,
 * one name per `hosts` entry as subject alternative names). Clients trust it on first use
 * and pin its fingerprint, or are given it with `--ca`.
 */
export async function makeSelfSignedCertificate(options: {
  hosts: readonly string[];
  days: number;
  now?: Date;
}): Promise<SelfSignedCertificate> {
  const notBeforeDate = options.now ?? new Date();
  const notAfterDate = new Date(notBeforeDate.getTime() + options.days * 86_400_000);
  const altNames = options.hosts.map((host) =>
    isIP(host) ? { type: 7 as const, ip: host } : { type: 2 as const, value: host },
  );
  const pems = await generate([{ name: 'commonName', value: options.hosts[0] ?? 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames },
    ],
  });
  return {
    cert: pems.cert,
    key: pems.private,
    fingerprint256: new X509Certificate(pems.cert).fingerprint256,
  };
}

interface MakeCertFlags {
  dir: string;
  host: string[];
  days: string;
  force?: boolean;
}

export async function runMakeCert(flags: MakeCertFlags): Promise<number> {
  const days = Number(flags.days);
  if (!Number.isInteger(days) || days < 1 || days > 3650) {
    console.error('confab: --days takes a whole number from 1 to 3650');
    return 2;
  }
  const dir = path.resolve(flags.dir);
  const certFile = path.join(dir, 'tls-cert.pem');
  const keyFile = path.join(dir, 'tls-key.pem');
  if (!flags.force && (existsSync(certFile) || existsSync(keyFile))) {
    console.error(`confab: ${certFile} or ${keyFile} exists already; --force replaces them`);
    return 1;
  }
  const hosts = flags.host.length > 0 ? flags.host : defaultCertificateHosts();
  const made = await makeSelfSignedCertificate({ hosts, days });
  mkdirSync(dir, { recursive: true });
  writeFileSync(certFile, made.cert);
  // The key is the server's identity: readable by its owner only.
  writeFileSync(keyFile, made.key, { mode: 0o600 });
  console.log(`Wrote ${certFile} and ${keyFile} (valid ${days} days for ${hosts.join(', ')})`);
  console.log(`SHA-256 fingerprint: ${made.fingerprint256}`);
  console.log('Clients see this fingerprint on their first --tls connection and pin it.');
  console.log(`Serve with: confab serve --tls-cert ${certFile} --tls-key ${keyFile}`);
  return 0;
}

/** `confab admin make-cert`: registered on the `admin` command group. */
export function registerMakeCert(admin: Command): void {
  admin
    .command('make-cert')
    .description('make a self-signed TLS certificate and key for a first setup')
    .option('--dir <dir>', 'where to write tls-cert.pem and tls-key.pem', 'confab-data')
    .option(
      '--host <name>',
      'a name or address the certificate is for (repeatable; default: localhost, 127.0.0.1, ::1 and this host name)',
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option('--days <n>', 'validity in days', '825')
    .option('--force', 'replace existing files')
    .action(async (options: MakeCertFlags) => {
      process.exit(await runMakeCert(options));
    });
}
