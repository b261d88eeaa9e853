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

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
export const noMessageLog: MessageLog = { record() {} };
