import { afterEach, describe, expect, it } from 'vitest';
import { AddressList } from '../src/transport/address-list.js';
import { clientAddress } from '../src/web/client-address.js';
import { startTestServer, TEST_ADMIN_PASSWORD, type TestServer } from './helpers/server.js';
import { TestWsClient } from './helpers/ws-client.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.dispose();
  server = undefined;
});

async function start(set: Record<string, string | number> = {}, env: Record<string, string> = {}) {
  server = await startTestServer({ web: true, set, env });
  const port = server.server.webAddress!.port;
  return { server, url: `ws://127.0.0.1:${port}/ws`, origin: `http://127.0.0.1:${port}` };
}

describe('WebSocket transport', () => {
  it('greets, logs in and chats with a native client both ways', async () => {
    const { server, url, origin } = await start();
    const web = await TestWsClient.connect(url, { origin });
    const hello = await web.waitFor((frame) => 'ev' in frame && frame.ev === 'hello');
    expect(hello).toMatchObject({ ev: 'hello', protocol: 1 });
    // `ws` offers permessage-deflate by default; the server takes none (docs/protocol.md:
    // each compressing connection would hold zlib state, and inflating costs CPU).
    expect(web.socket.extensions).toBe('');
    expect(await web.request('nick', { nick: 'webby' })).toMatchObject({
      ok: true,
      data: { nick: 'webby', resumeToken: expect.any(String) },
    });
    const native = await server.connect('bob');
    const fromWeb = native.waitFor((event) => event.ev === 'message');
    expect(await web.request('say', { room: 'lobby', text: 'hi from a browser' })).toMatchObject({
      ok: true,
    });
    expect(await fromWeb).toMatchObject({ from: 'webby', text: 'hi from a browser' });
    await native.request('msg', { to: ['webby'], text: 'hi back' });
    expect(await web.waitFor((frame) => 'ev' in frame && frame.ev === 'private')).toMatchObject({
      from: 'bob',
      text: 'hi back',
    });
    // The same connection layer as native: the session shows in `who` like any other.
    const who = (await native.request('who')) as { users: { nick: string }[] };
    expect(who.users.map((user) => user.nick).sort()).toEqual(['bob', 'webby']);
  });

  it('refuses pages from other origins than its own', async () => {
    const { url, origin } = await start();
    await expect(TestWsClient.connect(url, { origin: 'https://evil.example' })).rejects.toThrow(
      'HTTP 403',
    );
    // The same host on another port is another origin.
    await expect(
      TestWsClient.connect(url, { origin: origin.replace(/:\d+$/, ':1') }),
    ).rejects.toThrow('HTTP 403');
    // No Origin at all: not a browser, so no page to protect (bots, the benchmark).
    const bot = await TestWsClient.connect(url);
    await bot.waitFor((frame) => 'ev' in frame && frame.ev === 'hello');
    bot.close();
  });

  it('takes pages from the origins in web.allowedOrigins', async () => {
    const { url } = await start(
      {},
      { CONFAB_WEB_ALLOWED_ORIGINS: 'https://Chat.Example:443/, http://localhost:5173' },
    );
    const proxied = await TestWsClient.connect(url, { origin: 'https://chat.example' });
    await proxied.waitFor((frame) => 'ev' in frame && frame.ev === 'hello');
    const dev = await TestWsClient.connect(url, { origin: 'http://localhost:5173' });
    await dev.waitFor((frame) => 'ev' in frame && frame.ev === 'hello');
    await expect(TestWsClient.connect(url, { origin: 'https://evil.example' })).rejects.toThrow(
      'HTTP 403',
    );
    proxied.close();
    dev.close();
  });

  it('answers a bad frame with an error and keeps the connection; binary is not protocol v1', async () => {
    const { url, origin } = await start();
    const web = await TestWsClient.connect(url, { origin });
    web.send('{not json');
    expect(await web.waitFor((frame) => 're' in frame && !frame.ok)).toMatchObject({
      ok: false,
      error: { code: 'bad_frame' },
    });
    web.send(Buffer.from('{"id":1,"cmd":"ping"}'), true);
    await web.waitFor(
      (frame) => 're' in frame && !frame.ok && frame.error.message.includes('text messages'),
    );
    expect(await web.request('ping')).toMatchObject({ ok: true });
  });

  it('closes a connection whose message passes frame.maxBytes', async () => {
    const { url, origin } = await start({ 'frame.maxBytes': 2048 });
    const web = await TestWsClient.connect(url, { origin });
    await web.waitFor((frame) => 'ev' in frame && frame.ev === 'hello');
    web.send(JSON.stringify({ id: 1, cmd: 'ping', args: { pad: 'x'.repeat(4096) } }));
    // 1009: message too big, refused by `ws` as the frame header arrives.
    expect(await web.waitClosed()).toBe(1009);
  });

  it('counts connections per address with the native listener', async () => {
    const { server, url, origin } = await start({ maxConnectionsPerIp: 2 });
    const native = await server.open();
    const web = await TestWsClient.connect(url, { origin });
    await web.waitFor((frame) => 'ev' in frame && frame.ev === 'hello');
    const third = await TestWsClient.connect(url, { origin });
    expect(await third.waitFor((frame) => 'ev' in frame && frame.ev === 'closing')).toMatchObject({
      code: 'too_many_connections',
    });
    expect(third.frames.some((frame) => 'ev' in frame && frame.ev === 'hello')).toBe(false);
    native.destroy();
    web.close();
  });

  it('resumes a dropped session over a new WebSocket', async () => {
    const { server, url, origin } = await start();
    const first = await TestWsClient.connect(url, { origin });
    const login = (await first.request('nick', { nick: 'roamer' })) as {
      data: { resumeToken: string };
    };
    first.close();
    const bob = await server.connect('bob');
    await bob.request('msg', { to: ['roamer'], text: 'while you were away' });
    const second = await TestWsClient.connect(url, { origin });
    expect(await second.request('resume', { token: login.data.resumeToken })).toMatchObject({
      ok: true,
      data: { nick: 'roamer', resumed: true },
    });
    expect(await second.waitFor((frame) => 'ev' in frame && frame.ev === 'private')).toMatchObject({
      text: 'while you were away',
    });
  });
});

describe('X-Forwarded-For', () => {
  it('behind a trusted proxy, limits and an admin see the forwarded client; otherwise the peer', async () => {
    const { server, url, origin } = await start(
      { maxConnectionsPerIp: 1 },
      { CONFAB_TRUSTED_PROXIES: '127.0.0.1/32' },
    );
    const as = (address: string) =>
      TestWsClient.connect(url, { origin, headers: { 'X-Forwarded-For': address } });
    const ann = await as('198.51.100.7');
    expect(await ann.request('nick', { nick: 'ann' })).toMatchObject({ ok: true });
    // Another client behind the same proxy is another address: admitted.
    const ben = await as('198.51.100.8');
    expect(await ben.request('nick', { nick: 'ben' })).toMatchObject({ ok: true });
    // A second connection of the first client is over its limit of one.
    const again = await as('198.51.100.7');
    expect(await again.waitFor((frame) => 'ev' in frame && frame.ev === 'closing')).toMatchObject({
      code: 'too_many_connections',
    });
    // Over TCP from another loopback address: 127.0.0.1 is a trusted balancer now, whose
    // native connections must start with a PROXY header.
    const admin = await server.open({ localAddress: '127.0.0.2' });
    await admin.login('admin', TEST_ADMIN_PASSWORD);
    expect(await admin.request('whois', { name: 'ann' })).toMatchObject({
      address: '198.51.100.7',
    });
    ann.close();
    ben.close();
  });

  it('from an untrusted peer, the header is ignored', async () => {
    const { server, url, origin } = await start();
    const forged = await TestWsClient.connect(url, {
      origin,
      headers: { 'X-Forwarded-For': '198.51.100.9' },
    });
    expect(await forged.request('nick', { nick: 'forger' })).toMatchObject({ ok: true });
    const admin = await server.connect('admin', TEST_ADMIN_PASSWORD);
    expect(await admin.request('whois', { name: 'forger' })).toMatchObject({
      address: '127.0.0.1',
    });
    forged.close();
  });

  it('is believed only from trusted proxies, read from the right', () => {
    const trusted = new AddressList(['10.0.0.0/8', '::1']);
    expect(clientAddress('203.0.113.5', '198.51.100.7', trusted)).toBe('203.0.113.5');
    expect(clientAddress('10.1.2.3', '198.51.100.7', trusted)).toBe('198.51.100.7');
    expect(clientAddress('::ffff:10.1.2.3', '198.51.100.7', trusted)).toBe('198.51.100.7');
    // A client cannot add hops of its own in front of what the proxy appended.
    expect(clientAddress('10.1.2.3', '1.1.1.1, 198.51.100.7', trusted)).toBe('198.51.100.7');
    // Chained trusted proxies are walked through.
    expect(clientAddress('::1', '198.51.100.7, 10.9.9.9', trusted)).toBe('198.51.100.7');
    expect(clientAddress('10.1.2.3', 'garbage', trusted)).toBe('10.1.2.3');
    expect(clientAddress('10.1.2.3', undefined, new AddressList([]))).toBe('10.1.2.3');
  });
});
