import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** One file of the built web client, held in memory with its precompressed forms. */
interface StaticFile {
  readonly body: Buffer;
  readonly br: Buffer | undefined;
  readonly gzip: Buffer | undefined;
  readonly type: string;
  readonly etag: string;
  /** Content-hashed names never change content: cached for a year. */
  readonly immutable: boolean;
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** Where `npm run build` puts the web client: `<package>/dist/web`. */
export function defaultWebRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return path.join(dir, 'dist', 'web');
}

/**
 * The built web client, read once at start: a few hundred kilobytes, so every request is
 * answered from memory, in the best encoding the browser takes, with no disk access.
 * Vite writes `.br` and `.gz` beside each compressible file at build time.
 */
export class StaticFiles {
  private readonly files = new Map<string, StaticFile>();

  constructor(readonly root: string) {
    if (existsSync(root)) this.load(root, '/');
  }

  /** False when the web client was not built (the listener says so instead of a 404). */
  get isBuilt(): boolean {
    return this.files.has('/index.html');
  }

  private load(dir: string, prefix: string): void {
    for (const name of readdirSync(dir)) {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) {
        this.load(full, `${prefix}${name}/`);
        continue;
      }
      if (name.endsWith('.br') || name.endsWith('.gz')) continue;
      const body = readFileSync(full);
      const read = (suffix: string) =>
        existsSync(full + suffix) ? readFileSync(full + suffix) : undefined;
      this.files.set(prefix + name, {
        body,
        br: read('.br'),
        gzip: read('.gz'),
        type: TYPES[path.extname(name)] ?? 'application/octet-stream',
        etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
        immutable: prefix.startsWith('/assets/'),
      });
    }
  }

  /** Answers a GET or HEAD; false when no such file (the caller sends the 404). */
  serve(request: IncomingMessage, response: ServerResponse, pathname: string): boolean {
    const file = this.files.get(pathname === '/' ? '/index.html' : pathname);
    if (!file) return false;
    response.setHeader('Content-Type', file.type);
    response.setHeader('ETag', file.etag);
    response.setHeader('Vary', 'Accept-Encoding');
    response.setHeader(
      'Cache-Control',
      file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    );
    if (request.headers['if-none-match'] === file.etag) {
      response.writeHead(304).end();
      return true;
    }
    const accepted = acceptedEncodings(request.headers['accept-encoding']);
    let body = file.body;
    if (file.br && accepted.has('br')) {
      body = file.br;
      response.setHeader('Content-Encoding', 'br');
    } else if (file.gzip && accepted.has('gzip')) {
      body = file.gzip;
      response.setHeader('Content-Encoding', 'gzip');
    }
    response.setHeader('Content-Length', body.length);
    response.writeHead(200);
    response.end(request.method === 'HEAD' ? undefined : body);
    return true;
  }
}

/** Encodings the browser accepts (a `q=0` entry refuses one). */
function acceptedEncodings(header: string | undefined): Set<string> {
  const accepted = new Set<string>();
  for (const part of (header ?? '').split(',')) {
    const [name = '', ...params] = part.trim().toLowerCase().split(';');
    const refused = params.some((param) => /^\s*q=0(\.0*)?\s*$/.test(param));
    if (name && !refused) accepted.add(name);
  }
  return accepted;
}
