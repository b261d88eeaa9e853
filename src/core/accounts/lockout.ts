import type { Account } from '../../store/store.js';
import type { ChatCore } from '../chat-core.js';
import { ChatError, type ErrorCode } from '../errors.js';
import { needsRehash, passwordHasher } from './passwords.js';
import { recordSecurityEvent } from '../admin/security-events.js';
import { addressGroup } from '../limits/address-group.js';

/** Failures from one address count against its spray limit for this long. */
export const ADDRESS_WINDOW_MS = 60 * 60 * 1000;
/** Failures on one name, over every address, count against its cap for this long. */
export const NAME_WINDOW_MS = 60 * 60 * 1000;
/** Failures on one name that cost nothing; from then on each waits twice the last. */
export const NAME_FREE_FAILURES = 5;
/** The longest wait between guesses at one name from an address it has no history with. */
export const NAME_MAX_DELAY_MS = 60 * 1000;
/** A successful password login from an address vouches for it this long. */
export const KNOWN_ADDRESS_MS = 90 * 24 * 60 * 60 * 1000;
/** Lockout rows quiet for this long are forgotten. */
const PRUNE_AFTER_MS = 24 * 60 * 60 * 1000;
const PRUNE_EVERY_MS = 10 * 60 * 1000;

interface GuardState {
  /** One check at a time per nickname and address, so parallel guesses cannot overshoot. */
  readonly chains: Map<string, Promise<unknown>>;
  lastPrune: number;
}

const states = new WeakMap<ChatCore, GuardState>();

function stateOf(core: ChatCore): GuardState {
  let state = states.get(core);
  if (!state) {
    state = { chains: new Map(), lastPrune: core.clock.now() };
    states.set(core, state);
  }
  return state;
}

function serialised<T>(core: ChatCore, key: string, work: () => Promise<T>): Promise<T> {
  const { chains } = stateOf(core);
  const previous = chains.get(key) ?? Promise.resolve();
  const result = previous.then(work, work);
  const tail = result.catch(() => undefined);
  chains.set(key, tail);
  void tail.then(() => {
    if (chains.get(key) === tail) chains.delete(key);
  });
  return result;
}

function lockedError(code: ErrorCode, untilMs: number, now: number): ChatError {
  const seconds = Math.max(1, Math.ceil((untilMs - now) / 1000));
  return new ChatError(
    code,
    `${code === 'login_failed' ? 'Wrong nickname or password. ' : 'Wrong password. '}Too many failed attempts: try again in ${seconds} seconds`,
    { retryAfterSeconds: seconds },
  );
}

export interface PasswordCheck {
  readonly core: ChatCore;
  /** The nickname key tried (whether or not an account has it). */
  readonly nickKey: string;
  readonly address: string;
  /** The account of that nickname, when there is one. */
  readonly account: Account | undefined;
  readonly password: string;
  /** `login_failed` at login (never says which part was wrong), `wrong_password` after. */
  readonly failure: 'login_failed' | 'wrong_password';
}

/**
 * Until when guesses at one name from a stranger's address must wait: after
 * NAME_FREE_FAILURES failures in the window, 1 s after the last, then 2 s, 4 s… up to
 * NAME_MAX_DELAY_MS; at `cap` failures, until the window ends (ASVS 2.2.1: at most 100
 * failed attempts an hour per account). 0 when free to try now.
 */
export function nameThrottledUntil(
  failures: { failures: number; windowStart: number; lastAt: number } | undefined,
  cap: number,
  now: number,
): number {
  if (!failures || now - failures.windowStart >= NAME_WINDOW_MS) return 0;
  if (failures.failures >= cap) return failures.windowStart + NAME_WINDOW_MS;
  const over = failures.failures - NAME_FREE_FAILURES;
  if (over < 0) return 0;
  const delay = Math.min(1000 * 2 ** over, NAME_MAX_DELAY_MS);
  return failures.lastAt + delay;
}

/**
 * Checks a password under the lockout rules of seed 003: `lockout.attempts` failures for
 * one nickname from one address lock that pair for `lockout.seconds`; an address failing
 * `lockout.addressAttempts` times within an hour over any nicknames is locked too. An
 * unknown nickname is counted and hashed (against a dummy) exactly like a real one, and a
 * locked pair is hashed too, so neither the reply nor its timing tells whether the
 * account exists. Across addresses, a name's failures slow guesses down exponentially
 * (`nameThrottledUntil`), except from an address the name has logged in from before with
 * its password (KNOWN_ADDRESS_MS): thirty addresses can no longer make ninety guesses in
 * two seconds, and the owner at home is never locked out by them. A resume token needs no
 * password and is never throttled. Resolves with the account on success; throws `failure`
 * otherwise.
 */
export function checkPassword(check: PasswordCheck): Promise<Account> {
  const { core, nickKey, address } = check;
  return serialised(core, `${nickKey}\u0000${address}`, async () => {
    const guard = core.store.loginGuard;
    const spray = addressGroup(address);
    const [pair, byAddress, knownSince] = await Promise.all([
      guard.pair(nickKey, address),
      guard.address(spray),
      guard.knownAddress(nickKey, spray),
    ]);
    const now = core.clock.now();
    const cap = core.params['lockout.accountAttempts'];
    const lockedUntil = Math.max(pair?.lockedUntil ?? 0, byAddress?.lockedUntil ?? 0);
    const refuse = async (until: number, hash = true): Promise<never> => {
      if (hash) await passwordHasher.verifyDummy(check.password);
      if (check.account) await guard.addUnreported(check.account.id, address, now);
      throw lockedError(check.failure, until, core.clock.now());
    };
    if (lockedUntil > now) return refuse(lockedUntil);
    // A stranger's guess is counted before the hash, so parallel guesses queue up.
    const known = knownSince !== undefined && now - knownSince < KNOWN_ADDRESS_MS;
    const gate = known
      ? undefined
      : await guard.takeNameAttempt(nickKey, now, NAME_WINDOW_MS, (current) =>
          nameThrottledUntil(current, cap, now),
        );
    // No hash for a throttled guess: unknown names are throttled alike, so its timing tells
    // nothing, and a flood of guesses should not cost the server a hash each.
    if (gate && !gate.taken) return refuse(gate.until, false);
    const valid = check.account
      ? await passwordHasher.verify(check.account.passwordHash, check.password)
      : await passwordHasher.verifyDummy(check.password);
    if (valid && check.account) {
      await Promise.all([
        guard.clearPair(nickKey, address),
        gate ? guard.refundNameAttempt(nickKey) : undefined,
      ]);
      guard.recordKnownAddress(nickKey, spray, now).catch((error: unknown) => {
        core.logger.warn({ err: error, nick: nickKey }, 'could not record a known address');
      });
      upgradeHashIfOld(core, check.account, check.password);
      return check.account;
    }
    const params = core.params;
    const failedAt = core.clock.now();
    const lockMs = params['lockout.seconds'] * 1000;
    const [pairAfter, addressAfter, nameAfter] = await Promise.all([
      guard.recordPairFailure(nickKey, address, failedAt, {
        attempts: params['lockout.attempts'],
        lockMs,
      }),
      guard.recordAddressFailure(spray, failedAt, {
        attempts: params['lockout.addressAttempts'],
        lockMs,
        windowMs: ADDRESS_WINDOW_MS,
      }),
      // The owner's own failures count against the name too, without the wait.
      gate ?? guard.takeNameAttempt(nickKey, failedAt, NAME_WINDOW_MS, () => 0),
      check.account ? guard.addUnreported(check.account.id, address, failedAt) : undefined,
    ]);
    core.logger.info(
      {
        event: 'login_failed',
        nick: nickKey,
        address,
        lockedUntil: Math.max(pairAfter.lockedUntil, addressAfter.lockedUntil) || undefined,
      },
      'failed password',
    );
    prune(core, failedAt);
    const nowLocked = Math.max(pairAfter.lockedUntil, addressAfter.lockedUntil);
    recordSecurityEvent(core, nowLocked > failedAt ? 'locked_out' : 'login_failed', {
      target: nickKey,
      address,
      ...(nowLocked > failedAt && { details: `until ${new Date(nowLocked).toISOString()}` }),
    });
    if (nowLocked > failedAt) throw lockedError(check.failure, nowLocked, failedAt);
    // Say when a stranger may guess again, as a lockout does.
    const nextGuess =
      !known && nameAfter.taken ? nameThrottledUntil(nameAfter.failures, cap, failedAt) : 0;
    if (nextGuess > failedAt) throw lockedError(check.failure, nextGuess, failedAt);
    throw new ChatError(check.failure);
  });
}

/** Raised parameters take effect for an account at its next successful login. */
function upgradeHashIfOld(core: ChatCore, account: Account, password: string): void {
  if (!needsRehash(account.passwordHash)) return;
  passwordHasher
    .hash(password)
    .then((fresh) => core.store.accounts.setPasswordHash(account.id, fresh))
    .then(() => core.logger.info({ event: 'rehash', account: account.id }, 'password rehashed'))
    .catch((error: unknown) =>
      core.logger.warn({ err: error, account: account.id }, 'could not upgrade a password hash'),
    );
}

function prune(core: ChatCore, now: number): void {
  const state = stateOf(core);
  if (now - state.lastPrune < PRUNE_EVERY_MS) return;
  state.lastPrune = now;
  core.store.loginGuard
    .prune(now, now - PRUNE_AFTER_MS, now - KNOWN_ADDRESS_MS)
    .catch((error: unknown) => {
      core.logger.warn({ err: error }, 'could not prune lockouts');
    });
}
