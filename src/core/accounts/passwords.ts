import { Algorithm, hash, verify } from '@node-rs/argon2';

/**
 * Password hashing at OWASP's recommended Argon2id settings (19 MiB, 2 passes, 1 lane).
 * The PHC string stores the parameters with the salt and hash, so they can be raised
 * later and old hashes upgraded at the next login. Hashing runs on libuv's thread pool,
 * never on the event loop.
 */
export const PASSWORD_PARAMS = Object.freeze({
  algorithm: Algorithm.Argon2id,
  memoryCost: 19 * 1024,
  timeCost: 2,
  parallelism: 1,
});

export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 128;

export function hashPassword(password: string): Promise<string> {
  return hash(password, PASSWORD_PARAMS);
}

/** Constant-time comparison happens inside argon2's verify. */
export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

/** Returns why a new password is refused, or undefined when it is acceptable. */
export function passwordProblem(password: string): string | undefined {
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH)
    return `A password needs at least ${PASSWORD_MIN_LENGTH} characters`;
  if (length > PASSWORD_MAX_LENGTH)
    return `A password has at most ${PASSWORD_MAX_LENGTH} characters`;
  return undefined;
}
