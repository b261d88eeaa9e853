import type { ServerDescription } from '../../core/port.js';
import type { ClosingCode } from '../../protocol/closing.js';
import type { Capability, HelloEvent } from '../../protocol/events.js';
import { encodeServerFrame } from '../../protocol/codec.js';
import { FrameDecoder } from '../../protocol/framing.js';
import { parseRequest } from '../../protocol/parse.js';
import { PROTOCOL_VERSION } from '../../protocol/version.js';
import type { CoreFrame, Input, WireProtocol } from '../layer/protocol.js';

/** Events nobody waits for: they may be held briefly to share a write (see Outbox). */
const LAZY_EVENTS: ReadonlySet<string> = new Set(['online', 'offline', 'room_join', 'room_leave']);
const NONE: readonly Input[] = [];

/** The native greeting: who the server is, its limits, and the catalogue's hash. */
export function nativeHello(server: ServerDescription, now: number): HelloEvent {
  const capabilities: Capability[] = ['files'];
  if (server.resume) capabilities.push('resume');
  return {
    ev: 'hello',
    ts: now,
    server: server.server,
    version: server.version,
    protocol: PROTOCOL_VERSION,
    protocols: server.protocols,
    capabilities,
    limits: server.limits,
    catalogue: server.catalogue,
  };
}

/**
 * Protocol v1 on a byte stream (TCP, TLS): one JSON text per LF-terminated line, each way.
 * See docs/protocol.md.
 */
export class NativeProtocol extends FrameDecoder implements WireProtocol {
  // The protocol is its connection's frame decoder rather than holding one: one object per
  // connection fewer (32 bytes at ten thousand idle connections is 320 KB).
  decode(chunk: Uint8Array): readonly Input[] {
    const results = this.push(chunk);
    if (results.length === 0) return NONE;
    const inputs: Input[] = [];
    for (const result of results) {
      if (result.kind === 'error') {
        if (result.code === 'frame_too_large') {
          inputs.push({
            kind: 'fatal',
            code: 'frame_too_large',
            message: `A frame may hold at most ${this.maxFrameBytes} bytes`,
          });
          break;
        }
        inputs.push({
          kind: 'bad',
          code: 'invalid_utf8',
          message: 'The frame is not valid UTF-8',
          re: null,
        });
        continue;
      }
      // Blank lines are allowed (a human typing at a raw socket) and count as life.
      if (result.text.trim() === '') {
        inputs.push({ kind: 'alive' });
        continue;
      }
      const parsed = parseRequest(result.text);
      inputs.push(
        parsed.ok
          ? { kind: 'request', request: parsed.request }
          : { kind: 'bad', code: parsed.code, message: parsed.message, re: parsed.re },
      );
    }
    return inputs;
  }

  encode(frame: CoreFrame): Uint8Array {
    return encodeServerFrame(frame);
  }

  greeting(server: ServerDescription, now: number): Uint8Array {
    return encodeServerFrame(nativeHello(server, now));
  }

  ping(now: number): Uint8Array {
    return encodeServerFrame({ ev: 'ping', ts: now });
  }

  closing(code: ClosingCode, message: string, now: number): Uint8Array {
    return encodeServerFrame({ ev: 'closing', ts: now, code, message });
  }

  isLazy(frame: CoreFrame): boolean {
    return 'ev' in frame && LAZY_EVENTS.has(frame.ev);
  }
}
