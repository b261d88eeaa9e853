import {
  ConnectionClosedError,
  ProtocolClient,
  RequestError,
  type CloseInfo,
  type HelloEvent,
  type ReadyInfo,
} from '../../src/client/connection.js';
import { webSocketChannel } from '../../src/client/websocket-channel.js';

/**
 * The page's connection: the shared client library's `ProtocolClient` (the same request,
 * reply, event and resume logic as the terminal client and line mode) over the browser's
 * own WebSocket. Only the library's transport-neutral part is imported here: nothing of
 * Node's (`net`, `tls`, `fs`) reaches the bundle.
 */
export {
  ConnectionClosedError,
  ProtocolClient,
  RequestError,
  type CloseInfo,
  type HelloEvent,
  type ReadyInfo,
};

/** Opens `url` and waits for the server's greeting (or its reason for refusing). */
export function connectWebSocket(url: string): Promise<ProtocolClient> {
  return ProtocolClient.open(webSocketChannel(new WebSocket(url), url));
}

/** The endpoint on the server that served this page. */
export function endpointUrl(location: Location): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
}

/** An error as a line for people: the server's message with its stable code. */
export function describe(error: unknown): string {
  if (error instanceof RequestError) return `${error.message} (${error.code})`;
  if (error instanceof Error) return error.message;
  return String(error);
}
