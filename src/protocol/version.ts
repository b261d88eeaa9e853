/** The protocol version a connection speaks until its client picks one with `hello`. */
export const PROTOCOL_VERSION = 1;
/** Every protocol version this server speaks, newest first. */
export const PROTOCOL_VERSIONS: readonly number[] = Object.freeze([1]);

/** Frames the server sends are at most this large, or twice a client's frame limit. */
const SERVER_FRAME_FLOOR_BYTES = 4 * 1024 * 1024;

/**
 * The largest frame the server sends (announced in `hello.limits`). An event can echo a
 * client's frame (a message's text), escaped, so it scales with the client's limit; a
 * reply that would be larger (a `who` of a huge crowd) is refused with `reply_too_large`.
 */
export function serverFrameMaxBytes(clientFrameMaxBytes: number): number {
  return Math.max(SERVER_FRAME_FLOOR_BYTES, 2 * clientFrameMaxBytes + 4096);
}

/** Picks the newest version both sides speak, or undefined when they share none. */
export function pickVersion(offered: readonly number[]): number | undefined {
  return PROTOCOL_VERSIONS.find((version) => offered.includes(version));
}
