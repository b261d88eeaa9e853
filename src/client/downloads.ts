import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { numberedName, sanitizeFileName } from '../protocol/file-names.js';

/** The user's Downloads folder when there is one, else the current folder. */
export function defaultDownloadsDir(): string {
  const downloads = path.join(os.homedir(), 'Downloads');
  try {
    if (statSync(downloads).isDirectory()) return downloads;
  } catch {
    // No Downloads folder: fall back to where the user is.
  }
  return process.cwd();
}

export interface ClaimedPath {
  /** Where the file will be once complete; created empty now, so nobody else takes it. */
  readonly final: string;
  /** Where bytes go while they arrive, renamed to `final` once the hash matches. */
  readonly part: string;
}

/**
 * Picks where a download goes: the server's name made safe, inside `dir`, never over an
 * existing file (`name (1).ext`, `name (2).ext`, …). Exclusive creation makes the check
 * and the claim one step, so two downloads of the same name cannot collide either.
 */
export async function claimDownloadPath(dir: string, offeredName: string): Promise<ClaimedPath> {
  const base = path.resolve(dir);
  const name = sanitizeFileName(offeredName);
  for (let n = 0; n < 10_000; n++) {
    const final = path.join(base, numberedName(name, n));
    // sanitizeFileName never yields a separator; this keeps a future bug from escaping.
    if (path.dirname(final) !== base) throw new Error(`Unsafe file name: ${offeredName}`);
    try {
      await (await open(final, 'wx')).close();
    } catch (error) {
      if ((error as { code?: unknown }).code === 'EEXIST') continue;
      throw error;
    }
    const part = path.join(base, `.${randomBytes(6).toString('hex')}.confab-part`);
    return { final, part };
  }
  throw new Error(`Too many files named ${name} in ${base}`);
}
