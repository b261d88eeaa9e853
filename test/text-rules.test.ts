import { afterEach, describe, expect, it } from 'vitest';
import { RequestError, type ChatClient } from '../src/client/client.js';
import { textProblem } from '../src/core/text-rules.js';
import { startTestServer, TEST_ADMIN_PASSWORD, type TestServer } from './helpers/server.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.dispose();
  server = undefined;
});

async function refused(promise: Promise<unknown>): Promise<RequestError> {
  const error = await promise.then(
    () => new Error('accepted'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RequestError);
  return error as RequestError;
}

async function history(client: ChatClient): Promise<string[]> {
  const data = await client.request<{ messages: Array<{ text: string }> }>('history', {
    count: 50,
  });
  return data.messages.map((message) => message.text);
}

describe('text rules', () => {
  it('refuse lone surrogates anywhere in a request with invalid_args (issue 16.5)', async () => {
    server = await startTestServer();
    const alice = await server.connect('alice');
    const error = await refused(alice.request('say', { text: 'a\ud800b' }));
    expect(error.code).toBe('invalid_args');
    expect(error.message).toMatch(/text: not well-formed Unicode/);
    expect(await history(alice)).not.toContain('a\ud800b');
    // File names, private messages' recipients, nicknames: the same.
    const upload = await refused(
      alice.request('upload', { name: 'r\udc00.txt', size: 1, sha256: 'a'.repeat(64) }),
    );
    expect(upload.code).toBe('invalid_args');
    expect((await refused(alice.request('msg', { to: ['b\ud800'], text: 'hi' }))).code).toBe(
      'invalid_args',
    );
    const guest = await server.open();
    expect((await refused(guest.login('x\udfff'))).code).toBe('invalid_args');
    // A well-formed pair (an emoji) is fine.
    await expect(alice.request('say', { text: 'ok \ud83d\ude00' })).resolves.toBeDefined();
  });

  it('refuse control characters and bidi overrides in messages, topics and reasons (issue 14.5)', async () => {
    server = await startTestServer();
    const alice = await server.connect('alice');
    for (const text of ['bell\u0007', 'two\nlines', 'cr\r', 'del\u007f', 'c1\u0085', 'ls\u2028']) {
      const error = await refused(alice.request('say', { text }));
      expect(error.code).toBe('invalid_args');
      expect(error.message).toMatch(/control characters \(U\+[0-9A-F]{4} at position \d+\)/);
    }
    const override = await refused(alice.request('say', { text: 'evil \u202eexe.txt' }));
    expect(override.message).toMatch(/bidi embeddings or overrides \(U\+202E/);
    // Tab is allowed; closed isolates around right-to-left words are allowed in a message.
    await alice.request('say', { text: 'a\tb' });
    await alice.request('say', { text: 'he said \u2067שלום\u2069 twice' });
    expect((await refused(alice.request('say', { text: 'open \u2067שלום' }))).message).toMatch(
      /close every bidi isolate/,
    );
    expect(await history(alice)).toEqual(['a\tb', 'he said \u2067שלום\u2069 twice']);

    await alice.request('create', { room: 'den' });
    const topic = await refused(alice.request('topic', { room: 'den', text: 'x\u2066y\u2069' }));
    expect(topic.message).toMatch(/text: A topic may not hold bidi isolates/);
    await alice.request('topic', { room: 'den', text: 'plain topic' });

    const admin = await server.connect('admin', TEST_ADMIN_PASSWORD);
    const kick = await refused(admin.request('kick', { nick: 'alice', reason: 'bye\nforged' }));
    expect(kick.code).toBe('invalid_args');
    expect(kick.message).toMatch(/reason: A reason may not hold control characters/);
    const quit = await refused(alice.request('quit', { message: 'gone\u001b[2J' }));
    expect(quit.code).toBe('invalid_args');
  });

  it('refuse control, format and bidi characters in nicknames and room names (issue 14.5)', async () => {
    server = await startTestServer();
    const alice = await server.connect('alice');
    // C0, DEL, C1, a bidi override, an isolate, zero-width joiner and space, a lone mark.
    const hostile = ['a\u0007b', 'a\u007fb', 'a\u0085b', 'evil\u202eexe', 'a\u2067b', 'a\u200db'];
    for (const bad of [...hostile, 'a\u200bb', '\u0301x']) {
      const nick = await refused(alice.request('nick', { nick: bad }));
      expect(nick.code, JSON.stringify(bad)).toBe('invalid_nick');
      expect(nick.message).toBe("A nickname may hold only letters, digits, '_' and '-'");
      const room = await refused(alice.request('create', { room: bad }));
      expect(room.code, JSON.stringify(bad)).toBe('invalid_room');
      expect(room.message).toMatch(/may hold only letters, digits, '_' and '-'/);
    }
    // Before the nickname step too: a fresh connection's first name is checked alike.
    for (const bad of hostile) {
      const fresh = await server.open();
      const error = await refused(fresh.login(bad));
      expect(error.code).toBe('invalid_nick');
      fresh.destroy();
    }
    // Letters of any script, digits, '_' and '-' pass; NFKC first (full-width becomes ASCII).
    await alice.request('create', { room: 'Zoë_李雷-2' });
    expect(await alice.request('nick', { nick: 'ａｌｉｃｅ２' })).toMatchObject({ nick: 'alice2' });
  });

  it('textProblem: one rule for each kind', () => {
    expect(textProblem('fine text', 'message')).toBeUndefined();
    expect(textProblem('x\u0000', 'reason')).toMatch(/U\+0000 at position 1/);
    expect(textProblem('\u2069x\u2067', 'message')).toMatch(/close every bidi isolate/);
    expect(textProblem('\u2066a\u2069', 'reason')).toMatch(/bidi isolates/);
    expect(textProblem('\ud800', 'topic')).toMatch(/well-formed/);
  });
});
