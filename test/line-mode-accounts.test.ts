import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT, runLineMode } from '../src/client/line-mode.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const PASSWORD = 'correct horse battery';
const NEW_PASSWORD = 'tangerine submarine 42';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.dispose();
  server = undefined;
});

/** Runs the line client with `lines` as its whole input; returns exit code and output. */
async function lineMode(
  s: TestServer,
  nick: string,
  lines: string[],
  extra: { password?: string; takeover?: boolean } = {},
) {
  const input = new PassThrough();
  const output = new PassThrough();
  const errors = new PassThrough();
  let out = '';
  let err = '';
  output.on('data', (chunk: Buffer) => (out += chunk.toString()));
  errors.on('data', (chunk: Buffer) => (err += chunk.toString()));
  input.end(lines.map((line) => line + '\n').join(''));
  const code = await runLineMode({
    connect: { host: '127.0.0.1', port: s.port },
    nick,
    json: false,
    input,
    output,
    errors,
    ...extra,
  });
  return { code, out, err };
}

describe('line mode account commands', () => {
  it('answers the /register, /passwd and /deregister prompts with the next input lines', async () => {
    server = await startTestServer();
    const run = await lineMode(server, 'olga', [
      '/register',
      PASSWORD,
      PASSWORD,
      '/passwd',
      PASSWORD,
      NEW_PASSWORD,
      NEW_PASSWORD,
      '/deregister',
      NEW_PASSWORD,
      'yes',
    ]);
    expect(run.err).toBe('');
    expect(run.code).toBe(EXIT.ok);
    expect(run.out).toContain('New password again:');
    expect(run.out).toContain('Registered: olga is now your account');
    expect(run.out).toContain('Password changed');
    expect(run.out).toContain('type yes to confirm');
    expect(run.out).toContain('Account deleted');
    expect(run.out).not.toContain(PASSWORD);
    expect(await server.server.core.store.accounts.findByKey('olga')).toBeUndefined();
  });

  it('does nothing when the confirmation is no, or the two new passwords differ', async () => {
    server = await startTestServer();
    const run = await lineMode(server, 'pete', [
      '/register',
      PASSWORD,
      'something else entirely',
      '/register',
      PASSWORD,
      PASSWORD,
      'de-register',
      PASSWORD,
      // Only the word itself confirms a destructive question.
      'y',
    ]);
    expect(run.err).toContain('The two entries differ');
    expect(run.err).toContain('Cancelled');
    expect(await server.server.core.store.accounts.findByKey('pete')).toBeDefined();
  });

  it('says clearly when a nickname is registered and no password was given', async () => {
    server = await startTestServer();
    await lineMode(server, 'quinn', ['/register', PASSWORD, PASSWORD]);
    const refused = await lineMode(server, 'quinn', []);
    expect(refused.code).toBe(EXIT.loginRefused);
    expect(refused.err).toContain('quinn is a registered nickname');
    expect(refused.err).toContain('--password-file');
    const welcomed = await lineMode(server, 'quinn', ['/who'], { password: PASSWORD });
    expect(welcomed.code).toBe(EXIT.ok);
    expect(welcomed.out).toContain('You are quinn (user)');
  });

  it('reports failed logins at the next login', async () => {
    server = await startTestServer();
    await lineMode(server, 'rita', ['/register', PASSWORD, PASSWORD]);
    const wrong = await lineMode(server, 'rita', [], { password: 'not it at all' });
    expect(wrong.code).toBe(EXIT.loginRefused);
    expect(wrong.err).toContain('login_failed');
    const next = await lineMode(server, 'rita', [], { password: PASSWORD });
    expect(next.out).toMatch(
      /1 failed login attempt on your account since your last login, from: 127\.0\.0\.1/,
    );
  });
});
