import { randomBytes } from 'node:crypto';
import { hashPassword, passwordProblem } from '../core/accounts/passwords.js';
import { nameKey } from '../core/names.js';
import { StoreConflictError, type Store } from '../store/store.js';
import { nameSkeleton } from '../core/accounts/confusables.js';

export const ADMIN_NAME = 'admin';

export type AdminBootstrap =
  | { readonly kind: 'existing' }
  | { readonly kind: 'from-environment' }
  | { readonly kind: 'generated'; readonly password: string };

/**
 * On a fresh data directory, creates the admin account. Its password comes from the
 * operator (`CONFAB_ADMIN_PASSWORD`) or is generated here and shown once; only its hash is
 * stored. There is no default password.
 */
export async function ensureAdminAccount(
  store: Store,
  providedPassword: string | undefined,
  now: number,
): Promise<AdminBootstrap> {
  const accounts = await store.accounts.list();
  if (accounts.some((account) => account.role === 'admin')) return { kind: 'existing' };
  let password = providedPassword;
  let kind: AdminBootstrap['kind'] = 'from-environment';
  if (password === undefined || password === '') {
    password = randomBytes(18).toString('base64url');
    kind = 'generated';
  } else {
    const problem = passwordProblem(password, ADMIN_NAME);
    if (problem) throw new Error(`CONFAB_ADMIN_PASSWORD is not acceptable: ${problem}`);
  }
  try {
    await store.accounts.create({
      name: ADMIN_NAME,
      nameKey: nameKey(ADMIN_NAME),
      nameSkeleton: nameSkeleton(ADMIN_NAME),
      passwordHash: await hashPassword(password),
      role: 'admin',
      createdAt: now,
    });
  } catch (error) {
    // Cluster nodes starting together on a new database: another node made it first.
    if (!(error instanceof StoreConflictError)) throw error;
    const again = await store.accounts.list();
    if (again.some((account) => account.role === 'admin')) return { kind: 'existing' };
    throw error;
  }
  return kind === 'generated' ? { kind, password } : { kind };
}
