import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Router } from '../src/web/router.js';
import { startTestServer, type TestServer } from './helpers/server.js';

let server: TestServer;
let webRoot: string;
let base: string;
const script = 'console.log("confab");'.repeat(50);

function get(
  pathname: string,
  options: { method?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      `${base}${pathname}`,
      { method: options.method ?? 'GET', headers: options.headers ?? {} },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks),
          }),
        );
      },
    );
    request.on('error', reject);
    request.end();
  });
}

beforeAll(async () => {
  // A stand-in build, so these tests do not depend on the real client's file names.
  webRoot = mkdtempSync(path.join(tmpdir(), 'confab-web-root-'));
  mkdirSync(path.join(webRoot, 'assets'));
  writeFileSync(path.join(webRoot, 'index.html'), '<!doctype html><title>Confab</title>');
  const asset = path.join(webRoot, 'assets', 'app-Ab12.js');
  writeFileSync(asset, script);
  writeFileSync(`${asset}.br`, brotliCompressSync(script));
  writeFileSync(`${asset}.gz`, gzipSync(script));
  server = await startTestServer({ web: true, webRoot });
  base = `http://127.0.0.1:${server.server.webAddress!.port}`;
});
afterAll(async () => {
  await server.dispose();
  rmSync(webRoot, { recursive: true, force: true });
});

describe('the web listener', () => {
  it('serves the page with the security headers', async () => {
    const response = await get('/');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.headers['cache-control']).toBe('no-cache');
    const csp = response.headers['content-security-policy']!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['referrer-policy']).toBe('no-referrer');
    expect(response.body.toString()).toContain('<title>Confab</title>');
  });

  it('serves content-hashed assets precompressed, cached for good, with ETags', async () => {
    const brotli = await get('/assets/app-Ab12.js', { headers: { 'accept-encoding': 'gzip, br' } });
    expect(brotli.headers['content-encoding']).toBe('br');
    expect(brotli.headers['cache-control']).toContain('immutable');
    expect(brotli.headers['vary']).toBe('Accept-Encoding');
    expect(brotli.body.length).toBeLessThan(script.length);
    const gzip = await get('/assets/app-Ab12.js', { headers: { 'accept-encoding': 'gzip' } });
    expect(gzip.headers['content-encoding']).toBe('gzip');
    const refused = await get('/assets/app-Ab12.js', {
      headers: { 'accept-encoding': 'br;q=0, gzip;q=0' },
    });
    expect(refused.headers['content-encoding']).toBeUndefined();
    expect(refused.body.toString()).toBe(script);
    const again = await get('/assets/app-Ab12.js', {
      headers: { 'if-none-match': String(refused.headers.etag) },
    });
    expect(again.status).toBe(304);
  });

  it('answers unknown paths with 404 and other methods with 405, headers included', async () => {
    const missing = await get('/nope.js');
    expect(missing.status).toBe(404);
    expect(missing.headers['content-security-policy']).toBeDefined();
    const traversal = await get('/../../etc/passwd');
    expect(traversal.status).toBe(404);
    const post = await get('/', { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    const head = await get('/', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
  });

  it('takes routes registered by other modules (metrics, health checks)', async () => {
    server.server.web!.routes.add('GET', '/healthz-test', (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    });
    const response = await get('/healthz-test');
    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe('ok\n');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    const post = await get('/healthz-test', { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
  });
});

describe('Router', () => {
  it('refuses a path taken twice and paths without a slash', () => {
    const router = new Router();
    router.add('GET', '/a', () => undefined);
    expect(() => router.add('GET', '/a', () => undefined)).toThrow(/already taken/);
    expect(() => router.add('GET', 'b', () => undefined)).toThrow(/starts with/);
    expect(router.resolve('GET', '/missing')).toEqual({ status: 404 });
  });
});
