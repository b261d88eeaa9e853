import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSelfSignedCertificate } from '../src/cli/admin/make-cert.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { Wire } from './helpers/wire.js';

/**
 * The mismatches a client written from docs/protocol.md alone found (issue 14), each
 * settled in the server or the document and held here on a real server.
 */
describe('protocol contract: the mismatches of issue 14', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.dispose();
  });

  const login = async (nick: string, password?: string) => {
    const wire = await Wire.connect(server.port);
    await wire.ok('nick', password === undefined ? { nick } : { nick, password });
    return wire;
  };

  it('deregister without confirm is confirmation_required, and deletes nothing', async () => {
    const dora = await login('dora');
    await dora.ok('register', { password: 'dora-password-1' });
    const missing = await dora.call('deregister', { password: 'dora-password-1' });
    expect(missing).toMatchObject({ ok: false, error: { code: 'confirmation_required' } });
    const refused = await dora.call('deregister', { password: 'dora-password-1', confirm: false });
    expect(refused).toMatchObject({ ok: false, error: { code: 'confirmation_required' } });
    // Still an account: registering again is refused.
    expect(await dora.call('register', { password: 'dora-password-1' })).toMatchObject({
      ok: false,
      error: { code: 'already_registered' },
    });
    dora.destroy();
  });

  it('answers every request before the nickname step, the 33rd with too_many_requests, then closes', async () => {
    const wire = await Wire.connect(server.port);
    const ids: number[] = [];
    for (let i = 0; i < 40; i++) ids.push(wire.send('who'));
    await wire.raw.closed();
    const replies = wire.frames.filter((frame) => 're' in frame);
    // One reply each for the first 33, in order; nothing read after the 33rd.
    expect(replies.map((reply) => reply.re)).toEqual(ids.slice(0, 33));
    for (const reply of replies.slice(0, 32))
      expect(reply).toMatchObject({ ok: false, error: { code: 'not_ready' } });
    expect(replies[32]).toMatchObject({ ok: false, error: { code: 'too_many_requests' } });
    const last = wire.frames.at(-1);
    expect(last).toMatchObject({ ev: 'closing', code: 'too_many_requests' });
  });

  it('a private message to yourself is refused alone and left out of a group', async () => {
    const ann = await login('ann');
    const ben = await login('ben');
    const alone = await ann.call('msg', { to: ['ANN'], text: 'note to self' });
    expect(alone).toMatchObject({ ok: false, error: { code: 'invalid_target' } });
    const mark = ben.mark;
    const group = await ann.ok('msg', { to: ['ann', 'ben'], text: 'hi both' });
    expect(group).toMatchObject({ delivered: ['ben'], stored: [], unknown: [] });
    const received = await ben.event('private', mark);
    expect(received).toMatchObject({ from: 'ann', to: ['ben'], text: 'hi both' });
    ann.destroy();
    ben.destroy();
  });

  it('offline carries the quit message; nobody gets its own online; others do', async () => {
    const watcher = await login('watcher');
    const mark = watcher.mark;
    const quitter = await Wire.connect(server.port);
    await quitter.ok('nick', { nick: 'quitter' });
    await watcher.event('online', mark);
    expect(watcher.eventsSince(mark).filter((event) => event.ev === 'online')).toMatchObject([
      { nick: 'quitter' },
    ]);
    await quitter.call('ping');
    expect(quitter.eventsSince(0).filter((event) => event.ev === 'online')).toEqual([]);
    await quitter.ok('quit', { message: 'off to lunch' });
    const offline = await watcher.event('offline', mark);
    expect(offline).toMatchObject({ nick: 'quitter', reason: 'quit', message: 'off to lunch' });
    watcher.destroy();
  });

  it('on resume, room_entered names every room but the lobby, which is never announced', async () => {
    const roomer = await Wire.connect(server.port);
    const { resumeToken } = await roomer.ok<{ resumeToken: string }>('nick', { nick: 'roomer' });
    await roomer.ok('create', { room: 'snug' });
    roomer.destroy();
    const back = await Wire.connect(server.port);
    await back.ok('resume', { token: resumeToken });
    await back.event('room_entered');
    await back.ok('ping');
    const entered = back.eventsSince(0).filter((event) => event.ev === 'room_entered');
    expect(entered).toMatchObject([{ room: 'snug', restored: true }]);
    back.destroy();
  });

  it('send takes one recipient as a string; a list is invalid_args', async () => {
    const sender = await login('sender');
    const facts = { name: 'a.txt', size: 1, sha256: 'a'.repeat(64) };
    const listed = await sender.call('send', { to: ['ben'], ...facts });
    expect(listed).toMatchObject({ ok: false, error: { code: 'invalid_args' } });
    sender.destroy();
  });

  it("the TLS fingerprint is the SHA-256 of the certificate's DER, upper-case hex pairs with colons", async () => {
    const made = await makeSelfSignedCertificate({ hosts: ['localhost'], days: 1 });
    const der = Buffer.from(
      made.cert.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, ''),
      'base64',
    );
    const hex = createHash('sha256').update(der).digest('hex').toUpperCase();
    expect(made.fingerprint256).toBe(hex.match(/../g)!.join(':'));
    expect(made.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });
});
