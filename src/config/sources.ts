import path from 'node:path';

/** A setting that cannot be used, named by its config key. */
export class ConfigError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** A string setting: absent, or a non-empty string. */
export function stringSetting(value: unknown, key: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value === '')
    throw new ConfigError(key, `${key} must be a non-empty string`);
  return value;
}

/**
 * Where one start-up setting (fixed until a restart) is read from, highest precedence
 * first: its flag, its `CONFAB_*` variable, its key in the config file.
 */
export class SettingSource {
  constructor(
    private readonly env: Readonly<Record<string, string | undefined>>,
    private readonly file: Readonly<Record<string, unknown>>,
    /** What relative paths in flags and variables are resolved against. */
    private readonly cwd: string,
    /** What relative paths in the config file are resolved against: the file's folder. */
    private readonly fileDir: string,
  ) {}

  pick(flag: unknown, envName: string, fileKey: string): unknown {
    return flag ?? this.env[envName] ?? this.file[fileKey];
  }

  /** Only in the config file (lists and settings without a flag or variable of their own). */
  fromFile(fileKey: string): unknown {
    return this.file[fileKey];
  }

  string(flag: string | undefined, envName: string, fileKey: string): string | undefined {
    return stringSetting(this.pick(flag, envName, fileKey), fileKey);
  }

  /** A file path: from the file relative to the file, otherwise to the working directory. */
  path(flag: string | undefined, envName: string, fileKey: string): string | undefined {
    if (flag) return path.resolve(this.cwd, flag);
    const fromEnv = this.env[envName];
    if (fromEnv) return path.resolve(this.cwd, fromEnv);
    const fromFile = stringSetting(this.file[fileKey], fileKey);
    return fromFile ? path.resolve(this.fileDir, fromFile) : undefined;
  }

  /** A port that is off unless set. */
  port(flag: string | number | undefined, envName: string, fileKey: string): number | undefined {
    const raw = this.pick(flag, envName, fileKey);
    if (raw === undefined || raw === null || raw === '') return undefined;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0 || value > 65535)
      throw new ConfigError(
        fileKey,
        `${fileKey} must be a whole number from 0 to 65535, got "${String(raw)}"`,
      );
    return value;
  }
}
