/**
 * The one registry of closing codes: why the server closed a connection, as told in the
 * last frame it sends (native `closing`, a WebSocket close reason, an IRC `ERROR`). Like
 * error codes they are stable; `docs/protocol.md` lists exactly these (a test checks it).
 * Clients must still accept codes they do not know, from newer servers.
 */
export const CLOSING_CODES = {
  quit: 'the client asked to leave',
  shutting_down: 'the server is stopping',
  frame_too_large: 'a frame passed `frame.maxBytes`',
  too_many_errors: '10 bad frames in a row',
  registration_timeout: 'no finished nickname step within `registrationTimeoutSeconds`',
  too_many_requests: 'more than 32 requests before the nickname step',
  ping_timeout: 'no complete frame for `ping.timeoutSeconds`',
  flooding: 'the session kept sending past the flood limits (see Limits)',
  sendq_exceeded: 'more than `sendqBytes` of output waited for a client that does not read',
  internal_error: "a server bug while handling this connection's request (logged)",
  kicked: "an admin's `kick`; `message` names the admin and the reason",
  banned: "an admin's `ban`; `message` names the admin, the end and the reason",
  idle_timeout: 'no input for `idleTimeoutSeconds` (a `notice` says so first)',
  replaced:
    'the account logged in with `takeover`, or the session was resumed, on another connection',
  resume_failed: 'the session ended while it was being resumed',
  too_many_connections: 'sent instead of `hello`: `maxConnectionsPerIp` connections are open',
  connecting_too_fast: 'sent instead of `hello`: more than `connectionsPerMinutePerIp` a minute',
  proxy_refused:
    'a PROXY protocol header from an address not in `net.trustedProxies`, or a missing or malformed one from a trusted balancer',
  unsupported_version: 'the client speaks no protocol version this server speaks',
} as const;

export type ClosingCode = keyof typeof CLOSING_CODES;

export function isClosingCode(value: string): value is ClosingCode {
  return Object.hasOwn(CLOSING_CODES, value);
}
