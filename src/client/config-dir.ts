import os from 'node:os';
import path from 'node:path';

/**
 * The user's Confab config folder (TLS pins, per-server settings). `CONFAB_CONFIG_DIR`
 * overrides it (tests use a temp dir); otherwise each platform's usual place.
 */
export function userConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CONFAB_CONFIG_DIR) return env.CONFAB_CONFIG_DIR;
  if (process.platform === 'win32')
    return path.join(env.APPDATA ?? path.join(os.homedir(), 'AppData', 'Roaming'), 'confab');
  if (process.platform === 'darwin')
    return path.join(os.homedir(), 'Library', 'Application Support', 'confab');
  return path.join(env.XDG_CONFIG_HOME ?? path.join(os.homedir(), '.config'), 'confab');
}
