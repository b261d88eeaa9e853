import { Algorithm, hash } from '@node-rs/argon2';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { needsRehash, PasswordHasher, passwordProblem } from '../src/core/accounts/passwords.js';
import { ChatError } from '../src/core/errors.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { nameSkeleton } from '../src/core/accounts/confusables.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.dispose();
  server = undefined;
});

describe('password hashing', () => {
  it('queues hashing behind a fixed number of workers and refuses past the queue bound', async () => {
    const hasher = new PasswordHasher(1, 1);
    const first = hasher.hash('first password here');
    const second = hasher.hash('second password here');
    expect(hasher.queued).toBe(1);
    const third = await hasher.hash('third password here').catch((e: unknown) => e);
    expect(third).toBeInstanceOf(ChatError);
    expect((third as ChatError).code).toBe('server_busy');
    const [a, b] = await Promise.all([first, second]);
    expect(a).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await hasher.verify(b, 'second password here')).toBe(true);
    expect(await hasher.verify(b, 'first password here')).toBe(false);
    expect(hasher.queued).toBe(0);
  });

  it('normalises Unicode, so one passphrase typed two ways is the same', async () => {
    const hasher = new PasswordHasher(1, 4);
    const stored = await hasher.hash('caf\u00e9 au lait noir');
    expect(await hasher.verify(stored, 'cafe\u0301 au lait noir')).toBe(true);
  });

  it('follows NIST 800-63B: length 8 to 128, no composition rules, no common passwords', () => {
    expect(passwordProblem('seven77')).toMatch(/at least 8/);
    expect(passwordProblem('x'.repeat(129))).toMatch(/at most 128/);
    expect(passwordProblem('y'.repeat(128))).toBeUndefined();
    expect(passwordProblem('iloveyou')).toMatch(/common/);
    expect(passwordProblem('ILoveYou')).toMatch(/common/);
    expect(passwordProblem('all lowercase words only')).toBeUndefined();
    expect(passwordProblem('sandra-x', 'Sandra-X')).toMatch(/nickname/);
  });

  it('upgrades a hash made with older parameters at the next login', async () => {
    server = await startTestServer();
    const old = await hash('an older stored password', {
      algorithm: Algorithm.Argon2id,
      memoryCost: 4096,
      timeCost: 1,
      parallelism: 1,
    });
    expect(needsRehash(old)).toBe(true);
    const accounts = server.server.core.store.accounts;
    await accounts.create({
      name: 'sam',
      nameKey: 'sam',
      nameSkeleton: nameSkeleton('sam'),
      passwordHash: old,
      role: 'user',
      createdAt: Date.now(),
    });
    await server.connect('sam', 'an older stored password');
    let stored = old;
    for (let i = 0; i < 100 && stored === old; i++) {
      await sleep(20);
      stored = (await accounts.findByKey('sam'))!.passwordHash;
    }
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(needsRehash(stored)).toBe(false);
  });
});
