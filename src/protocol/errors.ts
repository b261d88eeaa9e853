/**
 * The one registry of error codes a reply can carry. Every error a client can receive is
 * listed here with its default human message; `docs/protocol.md` lists every code, and only
 * these (a test checks both directions). Codes are stable: clients branch on them, so never
 * rename one, only add.
 */
export const ERROR_CODES = {
  bad_request: 'The request is malformed',
  bad_frame: 'The frame is not valid JSON',
  invalid_utf8: 'The frame is not valid UTF-8',
  frame_too_large: 'The frame exceeds the maximum frame size',
  unknown_command: 'There is no such command',
  invalid_args: 'The command arguments are invalid',
  not_ready: 'Choose a nickname first',
  already_ready: 'You are already logged in',
  invalid_nick: 'That nickname is not valid',
  nick_taken: 'That nickname is taken',
  server_full: 'The server is full',
  server_locked: 'The server is not accepting new logins',
  shutting_down: 'The server is shutting down',
  message_too_long: 'The message is too long',
  empty_message: 'The message is empty',
  unknown_user: 'No such user',
  unknown_room: 'No such room',
  nick_reserved: 'That nickname belongs to an account: log in with its password',
  nick_confusable: 'That nickname looks like an account or a name the server uses',
  login_failed: 'Wrong nickname or password',
  weak_password: 'That password is not allowed',
  already_registered: 'You already have an account',
  not_authorized: 'You are not authorized to do that',
  storage_failed: 'The server could not store that; nothing was sent',
  storage_full: 'The server is short of disk space and takes no new files for now',
  internal_error: 'The server failed to handle that request',
  too_many_errors: 'Too many bad requests',
  rate_limited: 'Too many requests: slow down and try again',
  invalid_room: 'That room name is not valid',
  room_exists: 'A room with that name exists already',
  already_in_room: 'You are already in that room',
  not_room_owner: 'Only the owner of the room (or an admin) may do that',
  lobby_fixed: 'The lobby cannot be left, closed or given a topic',
  inbox_full: "The recipient's inbox is full",
  account_required: 'That needs an account: /register first',
  cannot_block_self: 'You cannot block yourself',
  already_blocked: 'You already block that user',
  not_blocked: 'You do not block that user',
  unknown_file: 'No such file',
  file_too_large: 'The file is larger than the server allows',
  quota_exceeded: 'That would take you over your file storage quota',
  file_refused: 'That user does not accept files from you',
  unknown_transfer: 'No such transfer in progress',
  bad_chunk: 'That file chunk does not fit the transfer',
  checksum_mismatch: 'The file arrived damaged (SHA-256 mismatch); it was discarded',
  too_many_transfers: 'Too many transfers in progress',
  banned: 'You are banned from this server',
  suspended: 'You are suspended: you can read and quit, nothing else',
  invalid_target: 'You cannot do that to that user',
  no_change: 'Nothing to change',
  unknown_parameter: 'There is no such parameter',
  invalid_value: 'That value is not valid for the parameter',
  server_busy: 'The server is busy: try again in a moment',
  already_logged_in: 'That account is logged in elsewhere',
  resume_failed: 'That session cannot be resumed: log in again',
  wrong_password: 'Wrong password',
  confirmation_required: 'Nothing was done: that needs an explicit yes',
  reply_too_large: 'The reply would exceed the largest frame the server sends',
  unsupported_version: 'The server speaks none of those protocol versions',
  too_many_requests: 'Too many requests before logging in: the connection is closed',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_CODES, value);
}
