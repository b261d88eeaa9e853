import type { ServerEvent } from '../protocol/events.js';
import { ConnectionClosedError, RequestError, type ProtocolClient } from './connection.js';

/**
 * File transfer's protocol flow, with no file system in it: the offer (`send`, `upload`,
 * `get`, `download`, `fileresume`), the chunks under the server's flow control (a window
 * of unanswered `filechunk`s up, `filecredit` down), the SHA-256 check, and `filedone` or
 * `filecancel`. Where the bytes come from and go is the caller's (`ByteSource`,
 * `ByteSink`), and so are hashing and base64 (`TransferPlatform`): transfers.ts gives it
 * files on disk in Node; a page can give it a `Blob` and memory (`blobSource`). Nothing
 * here may import a Node module: the browser can bundle it.
 */

/** Progress of one transfer, for bars and progress lines. */
export interface TransferProgress {
  readonly transfer: string;
  readonly direction: 'upload' | 'download';
  readonly name: string;
  /** Bytes done, including any resumed offset. */
  readonly bytes: number;
  readonly total: number;
  /** Average speed of this run, bytes per second. */
  readonly bytesPerSecond: number;
  readonly elapsedMs: number;
}

export interface TransferOptions {
  readonly onProgress?: (progress: TransferProgress) => void;
  /** Aborting cancels the transfer on the server (and the caller removes partial bytes). */
  readonly signal?: AbortSignal;
}

export interface UploadResult {
  readonly file: string;
  readonly name: string;
  readonly size: number;
  readonly sha256: string;
  readonly elapsedMs: number;
  readonly bytesPerSecond: number;
}

/** The server's answer to `send`, `upload` and `fileresume`: where to send from. */
export interface UploadOffer {
  readonly transfer: string;
  readonly file: string;
  readonly name: string;
  readonly size: number;
  readonly offset: number;
  readonly chunkBytes: number;
  readonly window: number;
}

/** The server's answer to `get` and `download`: what is coming, from where. */
export interface DownloadOffer {
  readonly transfer: string;
  readonly file: string;
  readonly name: string;
  readonly size: number;
  readonly sha256: string;
  readonly from: string;
  readonly offset: number;
  readonly chunkBytes: number;
}

/** An incremental SHA-256 (node:crypto in Node, @noble/hashes in a page). */
export interface Sha256 {
  update(bytes: Uint8Array): void;
  /** The digest as 64 lowercase hex digits; called once. */
  hex(): string;
}

/** What the flow needs of the platform: hashing and the wire's base64. */
export interface TransferPlatform {
  sha256(): Sha256;
  toBase64(bytes: Uint8Array): string;
  fromBase64(text: string): Uint8Array;
}

/** Where an upload's bytes come from. */
export interface ByteSource {
  /** For messages: a path, or a file's name. */
  readonly label: string;
  /** Exactly `length` bytes from `offset`; fewer means the source changed. */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** Where a download's bytes go, in order. */
export interface ByteSink {
  write(bytes: Uint8Array): Promise<void>;
  /** Every byte arrived: make them durable, then release the sink. */
  finish(): Promise<void>;
  /** The download stopped short: release the sink (the caller decides what to keep). */
  close(): Promise<void>;
  /**
   * After `finish`, once the SHA-256 matched and before `filedone`: the bytes are good,
   * put them where they belong (rename into place, hand the `Blob` over). Never called
   * for bytes that failed the check.
   */
  commit(): Promise<void>;
}

/** The bytes do not match what was announced (changed, or damaged in transit). */
export class ChecksumError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChecksumError';
  }
}

/**
 * An upload cut by a lost connection. After the session is resumed, the upload continues
 * from where the server got to (`fileresume`); if the session ended instead, the server has
 * already deleted the partial file.
 */
export class UploadInterruptedError extends ConnectionClosedError {
  constructor(
    message: string,
    readonly transfer: string,
    /** What was being sent (`ByteSource.label`: the path, in Node). */
    readonly file: string,
  ) {
    super(message);
    this.name = 'UploadInterruptedError';
  }
}

/** How far a download got: kept up to date while it runs, read after it fails. */
export interface DownloadState {
  offer: DownloadOffer | undefined;
  /** Bytes in the sink, any resumed ones included. */
  received: number;
}

export interface ReceiveOptions extends TransferOptions {
  /** Chunks the server may send ahead of what reached the sink. */
  readonly window: number;
  /** A resumed download: the bytes already held and their hash so far. */
  readonly resumeFrom?: { readonly bytes: number; readonly hash: Sha256 };
  /** Refuse the offer before any byte moves (a resumed file changed on the server). */
  readonly check?: (offer: DownloadOffer) => void;
  /** Where the bytes go, once the offer says what they are. */
  readonly open: (offer: DownloadOffer) => Promise<ByteSink>;
  /** Filled in as the download runs, for the caller's error handling. */
  readonly state?: DownloadState;
}

export interface ReceiveResult {
  readonly offer: DownloadOffer;
  readonly sha256: string;
  readonly elapsedMs: number;
  readonly bytesPerSecond: number;
}

type TransferEvent = Extract<ServerEvent, { ev: 'filedata' } | { ev: 'fileabort' }>;

/** One client's transfers: the steps of the protocol, over any byte source or sink. */
export class TransferFlow {
  constructor(
    readonly client: ProtocolClient,
    private readonly platform: TransferPlatform,
  ) {}

  /** Announces an upload (`send` to a user, `upload` to the shared area). */
  offer(
    cmd: 'send' | 'upload',
    facts: { to?: string; name: string; size: number; sha256: string },
  ): Promise<UploadOffer> {
    const { to, ...rest } = facts;
    return this.client.request<UploadOffer>(cmd, cmd === 'send' ? { to, ...rest } : rest);
  }

  /** Where the server got to with an upload cut by a lost connection (after a resume). */
  resumeOffer(transfer: string): Promise<UploadOffer> {
    return this.client.request<UploadOffer>('fileresume', { transfer });
  }

  /**
   * Sends the bytes from the server's offset in chunks, keeping at most `window` chunk
   * requests unanswered: each answer means the server wrote that chunk, so neither side
   * buffers more than a window, and other requests (chat) slot in between chunks. Then
   * `filedone`, where the server checks the SHA-256.
   */
  async send(
    offer: UploadOffer,
    source: ByteSource,
    sha256: string,
    options: TransferOptions = {},
  ): Promise<UploadResult> {
    const { transfer, size, chunkBytes } = offer;
    const window = Math.max(1, offer.window);
    const started = Date.now();
    const progress = progressReporter('upload', offer.name, transfer, size, offer.offset, options);
    const inFlight: Promise<unknown>[] = [];
    try {
      let offset = offer.offset;
      while (offset < size) {
        throwIfAborted(options.signal);
        const length = Math.min(chunkBytes, size - offset);
        const bytes = await source.read(offset, length);
        if (bytes.length !== length)
          throw new ChecksumError(`${source.label} changed while being sent`);
        const chunk = this.client
          .request<{ received: number }>('filechunk', {
            transfer,
            offset,
            data: this.platform.toBase64(bytes),
          })
          .then((reply) => progress(reply.received));
        // Errors surface where the chunk is awaited; this only stops "unhandled" noise.
        chunk.catch(() => undefined);
        inFlight.push(chunk);
        offset += length;
        if (inFlight.length >= window) await inFlight.shift();
      }
      await Promise.all(inFlight);
      throwIfAborted(options.signal);
      const done = await this.client.request<{ file: string; name: string }>('filedone', {
        transfer,
      });
      const elapsedMs = Date.now() - started;
      return {
        file: done.file,
        name: done.name,
        size,
        sha256,
        elapsedMs,
        bytesPerSecond: speed(size - offer.offset, elapsedMs),
      };
    } catch (error) {
      await Promise.allSettled(inFlight);
      // The server keeps the upload while the session waits to be resumed.
      if (error instanceof ConnectionClosedError)
        throw new UploadInterruptedError(error.message, transfer, source.label);
      await this.cancelQuietly(transfer, error);
      throw error;
    }
  }

  /**
   * Asks for a file (`get` or `download`), then takes the chunks the server pushes, one at
   * a time, granting more credit as chunks reach the sink. Only when the SHA-256 matches
   * is the file committed and confirmed with `filedone`; otherwise the transfer is
   * cancelled on the server (unless the connection itself is gone).
   */
  async receive(
    cmd: 'get' | 'download',
    args: Readonly<Record<string, string>>,
    options: ReceiveOptions,
  ): Promise<ReceiveResult> {
    const window = options.window;
    const state = options.state ?? { offer: undefined, received: 0 };
    state.received = options.resumeFrom?.bytes ?? 0;
    const hash = options.resumeFrom?.hash ?? this.platform.sha256();
    // Chunks may arrive in the same read as the reply: hold them until we know our id.
    const early: TransferEvent[] = [];
    let deliver: ((event: TransferEvent) => void) | undefined;
    let fail: ((error: Error) => void) | undefined;
    const onEvent = (event: ServerEvent) => {
      if (event.ev !== 'filedata' && event.ev !== 'fileabort') return;
      if (deliver) deliver(event);
      else early.push(event);
    };
    const onClose = () =>
      fail?.(new ConnectionClosedError('The connection closed during the download'));
    const onAbort = () => fail?.(new Error('Download cancelled'));
    this.client.on('event', onEvent);
    this.client.on('close', onClose);
    options.signal?.addEventListener('abort', onAbort);
    try {
      const offer = await this.client.request<DownloadOffer>(cmd, {
        ...args,
        window,
        ...(state.received > 0 && { offset: state.received }),
      });
      state.offer = offer;
      options.check?.(offer);
      const sink = await options.open(offer);
      const started = Date.now();
      const startOffset = state.received;
      const progress = progressReporter(
        'download',
        offer.name,
        offer.transfer,
        offer.size,
        startOffset,
        options,
      );
      let unacknowledged = 0;
      let writing: Promise<void> = Promise.resolve();
      try {
        await new Promise<void>((resolve, reject) => {
          fail = reject;
          if (options.signal?.aborted) reject(new Error('Download cancelled'));
          const writeChunk = async (event: Extract<TransferEvent, { ev: 'filedata' }>) => {
            if (event.offset !== state.received)
              throw new Error(`Chunk out of order at ${event.offset}`);
            const bytes = this.platform.fromBase64(event.data);
            if (state.received + bytes.length > offer.size)
              throw new Error('More data than the file size');
            await sink.write(bytes);
            hash.update(bytes);
            state.received += bytes.length;
            progress(state.received);
            unacknowledged++;
            if (state.received === offer.size) resolve();
            else if (unacknowledged >= Math.ceil(window / 2)) {
              const chunks = unacknowledged;
              unacknowledged = 0;
              this.client
                .request('filecredit', { transfer: offer.transfer, chunks })
                .catch((error: unknown) => reject(error as Error));
            }
          };
          deliver = (event) => {
            if (event.transfer !== offer.transfer) return;
            if (event.ev === 'fileabort') {
              reject(new RequestError('unknown_file', event.message));
              return;
            }
            writing = writing
              .then(() => writeChunk(event))
              .catch((error: unknown) => reject(error as Error));
          };
          for (const event of early.splice(0)) deliver(event);
          if (state.received === offer.size) resolve();
        });
        await writing;
        await sink.finish();
      } catch (error) {
        // Writes already queued finish before the sink is released (or kept for a resume).
        await writing.catch(() => undefined);
        await sink.close();
        throw error;
      }
      const digest = hash.hex();
      if (digest !== offer.sha256)
        throw new ChecksumError(`${offer.name} arrived damaged (SHA-256 mismatch); it was removed`);
      await sink.commit();
      await this.client.request('filedone', { transfer: offer.transfer });
      const elapsedMs = Date.now() - started;
      return {
        offer,
        sha256: digest,
        elapsedMs,
        bytesPerSecond: speed(offer.size - startOffset, elapsedMs),
      };
    } catch (error) {
      if (state.offer) await this.cancelQuietly(state.offer.transfer, error);
      throw error;
    } finally {
      this.client.off('event', onEvent);
      this.client.off('close', onClose);
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Tells the server to drop a failed transfer, unless the failure was the connection's. */
  async cancelQuietly(transfer: string, cause: unknown): Promise<void> {
    if (this.client.isClosed || cause instanceof ConnectionClosedError) return;
    await this.client.request('filecancel', { transfer }).catch(() => undefined);
  }
}

/** A `Blob` (a browser's `File`, or Node's `Blob`) as an upload's source. */
export function blobSource(blob: Blob, label: string): ByteSource {
  return {
    label,
    read: async (offset, length) =>
      new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer()),
  };
}

/**
 * A sink that keeps the bytes in memory and hands them to `done` as a `Blob` once they
 * passed the SHA-256 check.
 */
export function memorySink(done: (blob: Blob) => void): ByteSink {
  const parts: Uint8Array[] = [];
  let whole: Blob | undefined;
  return {
    write: async (bytes) => {
      parts.push(bytes);
    },
    commit: async () => done(whole!),
    // Uint8Array<ArrayBufferLike> vs the DOM and Node typings of a Blob part: the same bytes.
    finish: async () => {
      whole = new Blob(parts as unknown as ConstructorParameters<typeof Blob>[0]);
      parts.length = 0;
    },
    close: async () => {
      parts.length = 0;
    },
  };
}

function progressReporter(
  direction: 'upload' | 'download',
  name: string,
  transfer: string,
  total: number,
  startOffset: number,
  options: TransferOptions,
): (bytes: number) => void {
  const started = Date.now();
  const report = options.onProgress;
  if (!report) return () => undefined;
  report({
    transfer,
    direction,
    name,
    bytes: startOffset,
    total,
    bytesPerSecond: 0,
    elapsedMs: 0,
  });
  return (bytes) => {
    const elapsedMs = Date.now() - started;
    report({
      transfer,
      direction,
      name,
      bytes,
      total,
      bytesPerSecond: speed(bytes - startOffset, elapsedMs),
      elapsedMs,
    });
  };
}

function speed(bytes: number, elapsedMs: number): number {
  return elapsedMs > 0 ? (bytes * 1000) / elapsedMs : 0;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new Error('Transfer cancelled');
}
