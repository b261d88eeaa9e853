import type { ChatPort } from '../../core/port.js';
import type { Logger } from '../../core/logger.js';
import { noTelemetry, type Telemetry } from '../../telemetry/telemetry.js';
import { AddressLimits, type AddressVerdict } from '../address-limits.js';
import type { Connection } from './connection.js';

/** How often connection deadlines (registration, keepalive) are checked. */
const SWEEP_INTERVAL_MS = 1000;

/**
 * The open connections of one server, whatever their transport: per-address admission,
 * and the registration and keepalive deadlines, checked by one periodic sweep rather than
 * a timer per connection (an idle connection stays cheap). Every listener of a server
 * shares one set, so per-address limits count across transports.
 */
export class ConnectionSet {
  readonly addressLimits: AddressLimits;
  /** Open connections, each with the address group it counts against (null: none). */
  private readonly open = new Map<Connection, string | null>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private users = 0;

  constructor(
    private readonly port: ChatPort,
    private readonly logger: Logger,
    readonly telemetry: Telemetry = noTelemetry,
  ) {
    this.addressLimits = new AddressLimits(port.clock, () => port.params);
  }

  get size(): number {
    return this.open.size;
  }

  /**
   * Counts a new connection from `address` against its limits. When `ok`, the group must
   * be handed to `add` (or `release`d if the connection never comes to be).
   */
  admit(address: string, port: number, transport: string): AddressVerdict {
    const verdict = this.addressLimits.admit(address);
    if (!verdict.ok)
      this.telemetry.connectionRefused(
        verdict.code === 'too_many_connections' ? 'per_address' : 'rate',
      );
    if (!verdict.ok)
      this.logger.warn(
        { event: 'connection_refused', code: verdict.code, address, port, transport },
        'connection refused',
      );
    return verdict;
  }

  release(group: string): void {
    this.addressLimits.release(group);
  }

  /** Tracks an open connection; `group` (from `admit`) is released when it is removed. */
  add(connection: Connection, group: string | null): void {
    this.open.set(connection, group);
    this.telemetry.connectionOpened(connection.family);
    this.logger.info(
      {
        event: 'connect',
        transport: connection.transport,
        address: connection.address,
        port: connection.port,
        link: connection.link.id,
      },
      'connection opened',
    );
  }

  /** The connection closed: its address slot is free again. Idempotent. */
  remove(connection: Connection): void {
    const group = this.open.get(connection);
    if (group === undefined) return;
    this.open.delete(connection);
    this.telemetry.connectionClosed(connection.family);
    if (group !== null) this.addressLimits.release(group);
    this.logger.info(
      {
        event: 'disconnect',
        address: connection.address,
        port: connection.port,
        link: connection.link.id,
      },
      'connection closed',
    );
  }

  /** Each listener starts the sweep when it listens and stops it when it stops. */
  start(): void {
    if (this.users++ > 0) return;
    this.sweepTimer = setInterval(() => {
      try {
        this.sweep();
      } catch (error) {
        this.logger.error({ err: error }, 'connection sweep failed');
      }
    }, SWEEP_INTERVAL_MS);
    this.sweepTimer.unref();
  }

  stop(): void {
    if (--this.users > 0) return;
    this.users = 0;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
  }

  /** Cuts every open connection (the last step of a stop, after `closing` went out). */
  destroyAll(filter: (connection: Connection) => boolean = () => true): void {
    for (const connection of this.open.keys()) if (filter(connection)) connection.destroy();
  }

  /** Checks every deadline once; public so tests with a manual clock can drive it. */
  sweep(): void {
    this.addressLimits.prune();
    const params = this.port.params;
    const now = this.port.clock.now();
    const registrationMs = params.registrationTimeoutSeconds * 1000;
    const pingMs = params['ping.intervalSeconds'] * 1000;
    const timeoutMs = params['ping.timeoutSeconds'] * 1000;
    for (const connection of this.open.keys()) {
      if (connection.isClosing) continue;
      if (!connection.isRegistered && now - connection.link.openedAt > registrationMs) {
        connection.end('registration_timeout', 'No nickname chosen in time');
        continue;
      }
      const silentMs = now - connection.lastReceivedAt;
      const pinged = connection.lastPingAt >= connection.lastReceivedAt;
      // Never drop a connection before it was pinged and had the rest of the timeout to
      // answer: on a busy server a late sweep must not cut off a client it never asked.
      if (silentMs > timeoutMs && pinged && now - connection.lastPingAt >= timeoutMs - pingMs) {
        // Silence is not a goodbye: the session waits for a resume, as after a lost socket.
        connection.timedOut('ping_timeout', `No data for ${Math.round(silentMs / 1000)} seconds`);
      } else if (silentMs > pingMs && !pinged) {
        connection.ping();
      }
    }
  }
}
