import { createHash } from 'node:crypto';
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from './helpers/manual-clock.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { TestWsClient } from './helpers/ws-client.js';

/**
 * File bytes over HTTP (docs/protocol.md, "HTTP file transfer") with plain requests: a
 * link from `filelink` over the WebSocket, PUT streamed into the file service, GET whole
 * or by Range; wrong, expired and misused links; size, quota and SHA-256 refusals.
 */
let server: TestServer | undefined;
afterEach(async () => {
  await server?.dispose();
  server = undefined;
});

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const bytesOf = (size: number, seed = 7) =>
  Buffer.from(Array.from({ length: size }, (_, i) => (i * seed + 13) % 251));

interface Data {
  [key: string]: unknown;
}

async function start(set: Record<string, string | number> = {}) {
  const clock = new ManualClock();
  server = await startTestServer({ web: true, set, clock });
  const port = server.server.webAddress!.port;
  const base = `http://127.0.0.1:${port}`;
  const user = async (nick: string) => {
    const client = await TestWsClient.connect(`ws://127.0.0.1:${port}/ws`, { origin: base });
    await client.request('nick', { nick });
    const call = async (cmd: string, args: object = {}) => {
      const reply = (await client.request(cmd, args)) as { ok: boolean; data?: Data; error?: Data };
      if (!reply.ok) throw Object.assign(new Error(String(reply.error?.message)), reply.error);
      return reply.data!;
    };
    return { client, call };
  };
  return { clock, base, user };
}

/** Opens an upload with `send` and returns its PUT link. */
async function offer(
  call: (cmd: string, args?: object) => Promise<Data>,
  to: string,
  name: string,
  size: number,
  sha: string,
) {
  const opened = await call('send', { to, name, size, sha256: sha });
  const link = await call('filelink', { transfer: opened.transfer });
  return { transfer: String(opened.transfer), token: String(link.token) };
}

describe('HTTP file transfer', () => {
  it('streams a PUT into the file service, resumes it, and serves GET whole and by Range', async () => {
    const { base, user } = await start();
    const alice = await user('alice');
    const bob = await user('bob');
    const bytes = bytesOf(300_000);
    const { transfer, token } = await offer(
      alice.call,
      'bob',
      'notes.bin',
      bytes.length,
      sha256(bytes),
    );

    // The body is written as it arrives: the first part is stored before the rest is sent.
    const request = http.request(`${base}/file?t=${token}`, { method: 'PUT' });
    const answered = new Promise<{ status: number; body: Data }>((resolve, reject) => {
      request.on('response', (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () =>
          resolve({ status: response.statusCode!, body: JSON.parse(text) as Data }),
        );
      });
      request.on('error', reject);
    });
    request.write(bytes.subarray(0, 120_000));
    await expect
      .poll(async () => (await alice.call('fileresume', { transfer })).offset, { timeout: 5000 })
      .toBe(120_000);
    // A first request that stops part-way: the upload waits where it stands.
    request.end();
    expect(await answered).toEqual({
      status: 200,
      body: { transfer, received: 120_000, size: bytes.length },
    });
    // The rest, with Content-Range saying where it starts; a wrong start changes nothing.
    const wrongStart = await fetch(`${base}/file?t=${token}`, {
      method: 'PUT',
      headers: { 'Content-Range': `bytes 0-9/${bytes.length}` },
      body: bytes.subarray(0, 10),
    });
    expect(wrongStart.status).toBe(409);
    expect(await wrongStart.json()).toMatchObject({
      code: 'bad_chunk',
      details: { expected: 120_000 },
    });
    const rest = await fetch(`${base}/file?t=${token}`, {
      method: 'PUT',
      headers: { 'Content-Range': `bytes 120000-${bytes.length - 1}/${bytes.length}` },
      body: bytes.subarray(120_000),
    });
    expect(rest.status).toBe(200);
    expect(await rest.json()).toMatchObject({
      name: 'notes.bin',
      size: bytes.length,
      sha256: sha256(bytes),
    });
    const told = (await bob.client.waitFor(
      (frame) => 'ev' in frame && frame.ev === 'file',
    )) as unknown as Data;
    expect(told).toMatchObject({ from: 'alice', name: 'notes.bin', size: bytes.length });

    const get = await bob.call('filelink', { from: 'alice', file: told.file });
    expect(get).toMatchObject({ name: 'notes.bin', size: bytes.length, sha256: sha256(bytes) });
    const url = `${base}/file?t=${String(get.token)}`;
    const whole = await fetch(url);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    expect(whole.headers.get('content-disposition')).toContain('notes.bin');
    expect(sha256(Buffer.from(await whole.arrayBuffer()))).toBe(sha256(bytes));

    const part = await fetch(url, { headers: { Range: 'bytes=1000-1999' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 1000-1999/${bytes.length}`);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(bytes.subarray(1000, 2000));
    const tail = await fetch(url, { headers: { Range: 'bytes=-10' } });
    expect(Buffer.from(await tail.arrayBuffer())).toEqual(bytes.subarray(-10));
    const open = await fetch(url, { headers: { Range: 'bytes=299990-' } });
    expect(open.headers.get('content-range')).toBe(`bytes 299990-299999/${bytes.length}`);
    const beyond = await fetch(url, { headers: { Range: `bytes=${bytes.length}-` } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe(`bytes */${bytes.length}`);
    const head = await fetch(url, { method: 'HEAD' });
    expect(head.headers.get('content-length')).toBe(String(bytes.length));

    // Fetched and checked: `filedone` with the link retires the file, as a native download.
    expect(await bob.call('filedone', { transfer: get.token })).toEqual({ file: told.file });
    expect(
      await alice.client.waitFor((frame) => 'ev' in frame && frame.ev === 'filegone'),
    ).toMatchObject({ reason: 'fetched', name: 'notes.bin' });
    expect((await bob.call('files')).waiting).toEqual([]);
  });

  it('answers wrong, expired and misused links with 404 and nothing else', async () => {
    const { base, user, clock } = await start();
    const alice = await user('alice');
    const bob = await user('bob');
    const bytes = bytesOf(1000);
    const { token } = await offer(alice.call, 'bob', 'a.txt', bytes.length, sha256(bytes));

    const wrong = await fetch(`${base}/file?t=${token.slice(0, -2)}xx`);
    expect(wrong.status).toBe(404);
    expect(await wrong.json()).toMatchObject({ code: 'unknown_transfer' });
    expect((await fetch(`${base}/file`)).status).toBe(404);
    // A PUT link does not read a file, and a GET link does not write one.
    expect((await fetch(`${base}/file?t=${token}`)).status).toBe(404);
    const put = await fetch(`${base}/file?t=${token}`, { method: 'PUT', body: bytes });
    expect(put.status).toBe(200);
    const told = (await bob.client.waitFor(
      (frame) => 'ev' in frame && frame.ev === 'file',
    )) as unknown as Data;
    const get = await bob.call('filelink', { from: 'alice', file: told.file });
    const getUrl = `${base}/file?t=${String(get.token)}`;
    expect((await fetch(getUrl, { method: 'PUT', body: bytes })).status).toBe(404);
    // Someone else's link names nothing for them: alice cannot fetch what bob was sent.
    await expect(alice.call('filelink', { from: 'alice', file: told.file })).rejects.toThrow();
    // A minute later the link is dead.
    clock.advance(61_000);
    const late = await fetch(getUrl);
    expect(late.status).toBe(404);
    expect(await late.json()).toMatchObject({ code: 'unknown_transfer' });
    // Ending the session ends its links.
    const fresh = await bob.call('filelink', { from: 'alice', file: told.file });
    expect((await fetch(`${base}/file?t=${String(fresh.token)}`)).status).toBe(200);
    await bob.call('quit');
    await expect
      .poll(async () => (await fetch(`${base}/file?t=${String(fresh.token)}`)).status)
      .toBe(404);
  });

  it('keeps the native rules: size, quota and SHA-256', async () => {
    const { base, user } = await start({ 'files.quotaBytes': 5000, 'files.maxBytes': 4000 });
    const alice = await user('alice');
    await user('bob');
    await expect(
      alice.call('send', { to: 'bob', name: 'big', size: 4001, sha256: sha256(bytesOf(1)) }),
    ).rejects.toMatchObject({ code: 'file_too_large' });
    const bytes = bytesOf(3000);
    const first = await offer(alice.call, 'bob', 'one.bin', bytes.length, sha256(bytes));
    // The open upload counts against the quota: a second that would pass it is refused.
    await expect(
      alice.call('send', { to: 'bob', name: 'two', size: 2500, sha256: sha256(bytesOf(2500)) }),
    ).rejects.toMatchObject({ code: 'quota_exceeded' });

    // More bytes than announced: refused before any is stored.
    const tooMany = await fetch(`${base}/file?t=${first.token}`, {
      method: 'PUT',
      body: bytesOf(3001),
    });
    expect(tooMany.status).toBe(409);
    expect(await tooMany.json()).toMatchObject({ code: 'bad_chunk' });
    expect((await alice.call('fileresume', { transfer: first.transfer })).offset).toBe(0);

    // Other bytes than announced: the SHA-256 check deletes the partial file.
    const other = await fetch(`${base}/file?t=${first.token}`, {
      method: 'PUT',
      body: bytesOf(3000, 11),
    });
    expect(other.status).toBe(422);
    expect(await other.json()).toMatchObject({ code: 'checksum_mismatch' });
    await expect(alice.call('fileresume', { transfer: first.transfer })).rejects.toMatchObject({
      code: 'unknown_transfer',
    });
    // Its quota is free again.
    const again = await offer(alice.call, 'bob', 'one.bin', bytes.length, sha256(bytes));
    const put = await fetch(`${base}/file?t=${again.token}`, { method: 'PUT', body: bytes });
    expect(put.status).toBe(200);
  });
});
