import { ERROR_CODES, type ErrorCode } from '../protocol/errors.js';

export { ERROR_CODES, isErrorCode, type ErrorCode } from '../protocol/errors.js';

/** An expected failure of a request: becomes an error reply, never a crash. */
export class ChatError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message?: string, details?: Record<string, unknown>) {
    super(message ?? ERROR_CODES[code]);
    this.name = 'ChatError';
    this.code = code;
    this.details = details;
  }
}
