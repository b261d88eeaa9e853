import type { ErrorCode } from '../../protocol/errors.js';
import { ERR } from './numerics.js';

/**
 * How each Confab error code reaches an IRC client. Where IRC has a numeric for the case,
 * the numeric is sent (clients and conformance suites know them); where it has none, a
 * standard reply (`FAIL <command> <CODE> … :<message>`), or a NOTICE for a client that
 * did not ask for `standard-replies`. `target` numerics carry the nickname or channel the
 * request named; `close` codes end the connection with ERROR. docs/irc.md tables this.
 */
export interface IrcErrorForm {
  readonly numeric?: (typeof ERR)[keyof typeof ERR];
  /** The numeric's parameter after the client's nick is the target the request named. */
  readonly target?: boolean;
  /** The standard-reply code (upper case), used when there is no numeric. */
  readonly fail: string;
  /** The connection ends after the reply (ERROR). */
  readonly close?: boolean;
}

export const IRC_ERROR_FORMS: Readonly<Record<ErrorCode, IrcErrorForm>> = {
  bad_request: { fail: 'INVALID_PARAMS' },
  bad_frame: { fail: 'INVALID_FORMAT' },
  invalid_utf8: { fail: 'INVALID_UTF8' },
  frame_too_large: { numeric: ERR.INPUTTOOLONG, fail: 'INPUT_TOO_LONG' },
  unknown_command: { numeric: ERR.UNKNOWNCOMMAND, target: true, fail: 'UNKNOWN_COMMAND' },
  invalid_args: { fail: 'INVALID_PARAMS' },
  not_ready: { numeric: ERR.NOTREGISTERED, fail: 'NEED_REGISTRATION' },
  already_ready: { numeric: ERR.ALREADYREGISTERED, fail: 'ALREADY_REGISTERED' },
  invalid_nick: { numeric: ERR.ERRONEUSNICKNAME, target: true, fail: 'ERRONEUS_NICKNAME' },
  nick_taken: { numeric: ERR.NICKNAMEINUSE, target: true, fail: 'NICKNAME_IN_USE' },
  server_full: { fail: 'SERVER_FULL', close: true },
  server_locked: { fail: 'SERVER_LOCKED', close: true },
  shutting_down: { fail: 'SHUTTING_DOWN', close: true },
  message_too_long: { fail: 'MESSAGE_TOO_LONG' },
  empty_message: { numeric: ERR.NOTEXTTOSEND, fail: 'NO_TEXT_TO_SEND' },
  unknown_user: { numeric: ERR.NOSUCHNICK, target: true, fail: 'NO_SUCH_NICK' },
  unknown_room: { numeric: ERR.NOSUCHCHANNEL, target: true, fail: 'NO_SUCH_CHANNEL' },
  nick_reserved: { numeric: ERR.NICKNAMEINUSE, target: true, fail: 'NICKNAME_RESERVED' },
  nick_confusable: { numeric: ERR.ERRONEUSNICKNAME, target: true, fail: 'NICKNAME_CONFUSABLE' },
  login_failed: { numeric: ERR.PASSWDMISMATCH, fail: 'LOGIN_FAILED', close: true },
  weak_password: { fail: 'WEAK_PASSWORD' },
  already_registered: { fail: 'ALREADY_REGISTERED' },
  not_authorized: { numeric: ERR.NOPRIVILEGES, fail: 'NOT_AUTHORIZED' },
  storage_failed: { fail: 'STORAGE_FAILED' },
  internal_error: { fail: 'INTERNAL_ERROR' },
  too_many_errors: { fail: 'TOO_MANY_ERRORS', close: true },
  rate_limited: { fail: 'RATE_LIMITED' },
  invalid_room: { numeric: ERR.BADCHANNAME, target: true, fail: 'BAD_CHANNEL_NAME' },
  room_exists: { fail: 'CHANNEL_EXISTS' },
  already_in_room: { numeric: ERR.USERONCHANNEL, target: true, fail: 'ALREADY_ON_CHANNEL' },
  not_room_owner: { numeric: ERR.CHANOPRIVSNEEDED, target: true, fail: 'CHANOP_PRIVS_NEEDED' },
  lobby_fixed: { numeric: ERR.CHANOPRIVSNEEDED, target: true, fail: 'LOBBY_FIXED' },
  inbox_full: { fail: 'INBOX_FULL' },
  account_required: { fail: 'ACCOUNT_REQUIRED' },
  cannot_block_self: { fail: 'CANNOT_BLOCK_SELF' },
  already_blocked: { fail: 'ALREADY_BLOCKED' },
  not_blocked: { fail: 'NOT_BLOCKED' },
  unknown_file: { fail: 'UNKNOWN_FILE' },
  file_too_large: { fail: 'FILE_TOO_LARGE' },
  quota_exceeded: { fail: 'QUOTA_EXCEEDED' },
  storage_full: { fail: 'STORAGE_FULL' },
  file_refused: { fail: 'FILE_REFUSED' },
  unknown_transfer: { fail: 'UNKNOWN_TRANSFER' },
  bad_chunk: { fail: 'BAD_CHUNK' },
  checksum_mismatch: { fail: 'CHECKSUM_MISMATCH' },
  too_many_transfers: { fail: 'TOO_MANY_TRANSFERS' },
  banned: { numeric: ERR.YOUREBANNEDCREEP, fail: 'BANNED', close: true },
  suspended: { fail: 'SUSPENDED' },
  invalid_target: { fail: 'INVALID_TARGET' },
  no_change: { fail: 'NO_CHANGE' },
  unknown_parameter: { fail: 'UNKNOWN_PARAMETER' },
  invalid_value: { fail: 'INVALID_VALUE' },
  server_busy: { fail: 'SERVER_BUSY' },
  already_logged_in: { numeric: ERR.NICKNAMEINUSE, target: true, fail: 'ALREADY_LOGGED_IN' },
  resume_failed: { fail: 'RESUME_FAILED' },
  wrong_password: { numeric: ERR.PASSWDMISMATCH, fail: 'WRONG_PASSWORD' },
  confirmation_required: { fail: 'CONFIRMATION_REQUIRED' },
  unsupported_version: { fail: 'UNSUPPORTED_VERSION' },
  reply_too_large: { fail: 'REPLY_TOO_LARGE' },
  too_many_requests: { fail: 'TOO_MANY_REQUESTS' },
};
