import { hash, verify, type Algorithm } from '@node-rs/argon2';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { ChatError } from '../errors.js';

/**
 * Password hashing at OWASP's recommended Argon2id settings (19 MiB, 2 passes, 1 lane).
 * The PHC string stores the parameters with the salt and hash, so they can be raised
 * later and old hashes upgraded at the next login (`needsRehash`). Hashing runs on libuv's
 * thread pool, never on the event loop, through a bounded queue (`PasswordHasher`).
 */
/**
 * `Algorithm.Argon2id`, spelled as its value: `Algorithm` is a const enum, which builds of
 * isolated modules (the web client's type check reaches this file) cannot read.
 */
const ARGON2ID = 2 as Algorithm.Argon2id;

export const PASSWORD_PARAMS = Object.freeze({
  algorithm: ARGON2ID,
  memoryCost: 19 * 1024,
  timeCost: 2,
  parallelism: 1,
});

export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 128;

/**
 * NIST SP 800-63B asks for Unicode passwords to be normalised (NFKC) before hashing, so
 * the same passphrase typed on two keyboards is the same password.
 */
function normalise(password: string): string {
  return password.normalize('NFKC');
}

/**
 * Hashing jobs wait here so a burst of logins uses at most `concurrency` of libuv's
 * threads (the rest stay free for file I/O) and at most `maxQueued` wait; beyond that
 * a login is refused with `server_busy` rather than piling up memory and latency.
 */
export class PasswordHasher {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    readonly concurrency: number,
    readonly maxQueued: number,
  ) {}

  get queued(): number {
    return this.waiting.length;
  }

  hash(password: string): Promise<string> {
    return this.run(() => hash(normalise(password), PASSWORD_PARAMS));
  }

  /** Constant-time comparison happens inside argon2's verify; a malformed hash is false. */
  verify(passwordHash: string, password: string): Promise<boolean> {
    return this.run(() => verify(passwordHash, normalise(password)).catch(() => false));
  }

  /**
   * Verifies against a hash of a random password at the current parameters, so a login
   * for a nickname without an account (or a locked one) costs what a real one costs.
   */
  async verifyDummy(password: string): Promise<false> {
    this.dummy ??= this.hash(randomBytes(16).toString('base64url'));
    await this.verify(await this.dummy, password);
    return false;
  }

  private dummy: Promise<string> | undefined;

  private async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.maxQueued)
        throw new ChatError('server_busy', 'Too many logins in progress: try again in a moment');
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await job();
    } finally {
      // Hand the slot straight to the next waiter, or free it.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}

/**
 * One queue per process: the thread pool it protects is per process too. Two of libuv's
 * four default threads hash; at most 256 logins wait.
 */
export const passwordHasher = new PasswordHasher(2, 256);

export function hashPassword(password: string): Promise<string> {
  return passwordHasher.hash(password);
}

export function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  return passwordHasher.verify(passwordHash, password);
}

/** True when a stored hash was made with other (older) parameters than today's. */
export function needsRehash(passwordHash: string): boolean {
  const match = /^\$argon2id\$v=(\d+)\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(passwordHash);
  if (!match) return true;
  const [, version, memory, time, lanes] = match.map(Number) as [number, ...number[]];
  return (
    version !== 19 ||
    memory !== PASSWORD_PARAMS.memoryCost ||
    time !== PASSWORD_PARAMS.timeCost ||
    lanes !== PASSWORD_PARAMS.parallelism
  );
}

let commonPasswords: ReadonlySet<string> | undefined;

/**
 * The zxcvbn-ts list of the most common leaked passwords (about 50,000; the 18,000 long
 * enough to pass the length rule are kept). Loading it takes about 0.1 s, once: the
 * server does it at start (`loadPasswordPolicy`), anything else on first use.
 */
export function loadPasswordPolicy(): ReadonlySet<string> {
  if (!commonPasswords) {
    const require = createRequire(import.meta.url);
    const { dictionary } = require('@zxcvbn-ts/language-common') as {
      dictionary: { 'passwords-common': string[] };
    };
    commonPasswords = new Set(
      dictionary['passwords-common']
        .filter((entry) => entry.length >= PASSWORD_MIN_LENGTH)
        .map((entry) => entry.toLowerCase()),
    );
  }
  return commonPasswords;
}

/**
 * Returns why a new password is refused, or undefined when it is acceptable. NIST SP
 * 800-63B: a minimum length, long passphrases allowed, no composition rules, and a check
 * against passwords known to be common and against the account's own name.
 */
export function passwordProblem(password: string, nickname?: string): string | undefined {
  const normalised = normalise(password);
  const length = [...normalised].length;
  if (length < PASSWORD_MIN_LENGTH)
    return `A password needs at least ${PASSWORD_MIN_LENGTH} characters`;
  if (length > PASSWORD_MAX_LENGTH)
    return `A password has at most ${PASSWORD_MAX_LENGTH} characters`;
  const lower = normalised.toLowerCase();
  if (nickname !== undefined && lower === nickname.normalize('NFKC').toLowerCase())
    return 'A password may not be your nickname';
  if (loadPasswordPolicy().has(lower))
    return 'That password is among the most common ones: choose another (a passphrase of a few words works well)';
  return undefined;
}

/** Throws `weak_password` when a new password breaks the policy. */
export function checkNewPassword(password: string, nickname?: string): void {
  const problem = passwordProblem(password, nickname);
  if (problem) throw new ChatError('weak_password', problem);
}
