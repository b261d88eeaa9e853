/** The logging the core needs; pino's logger satisfies it, and tests can capture it. */
export interface Logger {
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  error(fields: object, message?: string): void;
}

/** The message log of seeds 001 and 004: who said what to whom, and when. */
export interface MessageLog {
  record(entry: { ts: number; sender: string; target: string; text: string }): void;
}

/**
 * The audit trail (`logs/audit.log`): every admin action and security event as one record,
 * apart from the busy server log, so an operator can read who did what without the noise.
 * Records never hold a password or a token.
 */
export interface AuditLog {
  record(entry: AuditRecord): void;
}

export interface AuditRecord {
  readonly ts: number;
  /** `admin`: an admin did it (or the console, or the escalation ladder); `security`: it happened to an account or address. */
  readonly kind: 'admin' | 'security';
  /** `kick`, `ban`, `config`, `login_failed`, `locked_out`, `takeover`, `passwd`, … */
  readonly action: string;
  /** Who acted: an admin's name, `(console)`, `(escalation)`; for security events the user, if known. */
  readonly actor: string | null;
  /** Whom or what it was done to. */
  readonly target: string | null;
  readonly details: string | null;
  /** The client address involved, when there is one. */
  readonly address?: string;
}

export const noAuditLog: AuditLog = { record() {} };

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
export const noMessageLog: MessageLog = { record() {} };
