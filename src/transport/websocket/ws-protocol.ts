import type { ServerDescription } from '../../core/port.js';
import type { ClosingCode } from '../../protocol/closing.js';
import { encodeServerFrame } from '../../protocol/codec.js';
import { parseRequest } from '../../protocol/parse.js';
import type { CoreFrame, Input, WireProtocol } from '../layer/protocol.js';
import { nativeHello } from '../native/native-protocol.js';

/** A frame's native encoding without its line feed: `subarray` copies nothing. */
function message(bytes: Uint8Array): Uint8Array {
  return bytes.subarray(0, bytes.length - 1);
}

/**
 * Protocol v1 over WebSocket: each text message is one JSON frame, each way, with no line
 * feed. `ws` has already framed, unmasked and UTF-8-checked it and refused anything over
 * `frame.maxBytes` as its header arrived. The encoding of an event is the native one,
 * shared by every recipient whatever their transport.
 */
export class WebSocketProtocol implements WireProtocol {
  /** Set by the endpoint before each message: binary messages are not frames. */
  binary = false;

  constructor(private readonly frameMaxBytes: number) {}

  decode(chunk: Uint8Array): readonly Input[] {
    if (this.binary)
      return [
        {
          kind: 'bad',
          code: 'bad_frame',
          message: 'Protocol v1 frames are WebSocket text messages',
          re: null,
        },
      ];
    // `ws` caps messages at the limit when the endpoint started; a lower one set live since
    // applies here.
    if (chunk.length > this.frameMaxBytes)
      return [
        {
          kind: 'fatal',
          code: 'frame_too_large',
          message: `A frame may hold at most ${this.frameMaxBytes} bytes`,
        },
      ];
    const text = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('utf8');
    if (text.trim() === '') return [{ kind: 'alive' }];
    const parsed = parseRequest(text);
    return [
      parsed.ok
        ? { kind: 'request', request: parsed.request }
        : { kind: 'bad', code: parsed.code, message: parsed.message, re: parsed.re },
    ];
  }

  encode(frame: CoreFrame): Uint8Array {
    return message(encodeServerFrame(frame));
  }

  greeting(server: ServerDescription, now: number): Uint8Array {
    return message(encodeServerFrame(nativeHello(server, now)));
  }

  ping(now: number): Uint8Array {
    return message(encodeServerFrame({ ev: 'ping', ts: now }));
  }

  closing(code: ClosingCode, messageText: string, now: number): Uint8Array {
    return message(encodeServerFrame({ ev: 'closing', ts: now, code, message: messageText }));
  }
}
