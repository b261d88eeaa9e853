import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  Registry,
  type Counter as CounterType,
  type Histogram as HistogramType,
} from 'prom-client';
import type {
  LoginResult,
  MessageKind,
  RefusalReason,
  Telemetry,
  TransportName,
} from '../telemetry/telemetry.js';

/** Sessions on this node by kind, read when Prometheus scrapes. */
export interface SessionCounts {
  readonly guests: number;
  readonly accounts: number;
  readonly away: number;
}

const TRANSPORTS: readonly TransportName[] = ['native', 'websocket', 'irc'];
const MESSAGE_KINDS: readonly MessageKind[] = ['room', 'private', 'broadcast'];

/**
 * The server's metrics in Prometheus' text format, with prom-client. Every name starts
 * with `confab_` (Node's default metrics keep their standard names); docs/operations.md
 * describes each one. Label values come from closed sets, except `command`, which is a
 * command of the table: an unknown request is counted as `unknown`, so a client cannot
 * grow the label set.
 */
export class PrometheusTelemetry implements Telemetry {
  readonly registry = new Registry();
  private readonly connections: Gauge<'transport'>;
  private readonly connectionsTotal: Counter<'transport'>;
  private readonly refusals: Counter<'reason'>;
  private readonly logins: Counter<'result'>;
  private readonly messages: Counter<'kind'>;
  private readonly deliveries: Counter;
  private readonly fanout: Histogram;
  private readonly commandSeconds: Histogram<'command'>;
  private readonly commitSeconds: Histogram;
  private readonly commitWrites: Histogram;
  private readonly sendqDrops: Counter<'transport'>;
  private readonly floodRefusals: Counter;
  private readonly busOut: Counter<'type'>;
  private readonly busIn: Counter<'type'>;
  private readonly busLatency: Histogram;
  private readonly fileBytesTotal: Counter<'direction'>;
  // Children bound once: a labelled lookup per message would cost more than the count.
  private readonly messageChildren: Map<MessageKind, CounterType.Internal>;
  /**
   * Bound children by envelope type: every event crosses the bus, and a labelled `inc`
   * hashes its labels on each call (a few hundred ns, per message on the hot path).
   */
  private readonly busOutChildren = new Map<string, CounterType.Internal>();
  private readonly busInChildren = new Map<string, CounterType.Internal>();
  private readonly commandChildren = new Map<string, HistogramType.Internal<'command'>>();
  private commandNames: ReadonlySet<string> = new Set();
  private sessionCounts: () => SessionCounts = () => ({ guests: 0, accounts: 0, away: 0 });

  /**
   * Made before the store and the core (both report to it); `watch` then tells it what the
   * core holds.
   */
  constructor() {
    // The collect callback below runs with `this` bound to the gauge.
    const counts = () => this.sessionCounts();
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.connections = new Gauge({
      name: 'confab_connections',
      help: 'Open client connections, by transport',
      labelNames: ['transport'],
      registers,
    });
    this.connectionsTotal = new Counter({
      name: 'confab_connections_total',
      help: 'Client connections accepted, by transport',
      labelNames: ['transport'],
      registers,
    });
    for (const transport of TRANSPORTS) {
      this.connections.set({ transport }, 0);
      this.connectionsTotal.inc({ transport }, 0);
    }
    this.refusals = new Counter({
      name: 'confab_connections_refused_total',
      help: 'Connections refused before they were served, by reason',
      labelNames: ['reason'],
      registers,
    });
    new Gauge({
      name: 'confab_sessions',
      help: 'Sessions on this node: guests and accounts online, and sessions away (waiting to be resumed)',
      labelNames: ['kind'],
      registers,
      collect() {
        const now = counts();
        this.set({ kind: 'guest' }, now.guests);
        this.set({ kind: 'account' }, now.accounts);
        this.set({ kind: 'away' }, now.away);
      },
    });
    this.logins = new Counter({
      name: 'confab_logins_total',
      help: 'Login attempts, by result',
      labelNames: ['result'],
      registers,
    });
    this.messages = new Counter({
      name: 'confab_messages_total',
      help: 'Chat messages stored and acknowledged, by kind',
      labelNames: ['kind'],
      registers,
    });
    this.messageChildren = new Map(
      MESSAGE_KINDS.map((kind) => [kind, this.messages.labels({ kind })]),
    );
    this.deliveries = new Counter({
      name: 'confab_deliveries_total',
      help: 'Events handed to sessions on this node (one per recipient)',
      registers,
    });
    this.fanout = new Histogram({
      name: 'confab_fanout_recipients',
      help: 'Recipients on this node of one event',
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
      registers,
    });
    this.commandSeconds = new Histogram({
      name: 'confab_command_duration_seconds',
      help: 'Time from a request starting to its reply, by command',
      labelNames: ['command'],
      buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      registers,
    });
    this.commitSeconds = new Histogram({
      name: 'confab_store_commit_duration_seconds',
      help: 'Time of one store commit (a group of writes)',
      buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.commitWrites = new Histogram({
      name: 'confab_store_commit_writes',
      help: 'Writes carried by one store commit',
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000],
      registers,
    });
    this.sendqDrops = new Counter({
      name: 'confab_sendq_drops_total',
      help: 'Connections dropped because their send queue passed sendqBytes, by transport',
      labelNames: ['transport'],
      registers,
    });
    this.floodRefusals = new Counter({
      name: 'confab_flood_refusals_total',
      help: 'Requests refused by flood control (rate_limited)',
      registers,
    });
    this.busOut = new Counter({
      name: 'confab_bus_published_total',
      help: 'Messages this node published on the bus, by type',
      labelNames: ['type'],
      registers,
    });
    this.busIn = new Counter({
      name: 'confab_bus_received_total',
      help: 'Messages this node received from other nodes on the bus, by type',
      labelNames: ['type'],
      registers,
    });
    this.busLatency = new Histogram({
      name: 'confab_bus_latency_seconds',
      help: 'Time from another node publishing a message to this node receiving it',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.fileBytesTotal = new Counter({
      name: 'confab_file_bytes_total',
      help: 'File bytes received from clients (in) and sent to clients (out)',
      labelNames: ['direction'],
      registers,
    });
  }

  /** The commands of the table (the `command` label's values) and the sessions gauge's source. */
  watch(commandNames: Iterable<string>, sessionCounts: () => SessionCounts): void {
    this.commandNames = new Set(commandNames);
    this.commandChildren.clear();
    this.sessionCounts = sessionCounts;
  }

  /** The exposition, as `/metrics` answers it. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  connectionOpened(transport: TransportName): void {
    this.connections.inc({ transport });
    this.connectionsTotal.inc({ transport });
  }

  connectionClosed(transport: TransportName): void {
    this.connections.dec({ transport });
  }

  connectionRefused(reason: RefusalReason): void {
    this.refusals.inc({ reason });
  }

  login(result: LoginResult): void {
    this.logins.inc({ result });
  }

  messageSent(kind: MessageKind): void {
    this.messageChildren.get(kind)?.inc();
  }

  fannedOut(recipients: number): void {
    this.deliveries.inc(recipients);
    this.fanout.observe(recipients);
  }

  commandFinished(command: string, seconds: number): void {
    let child = this.commandChildren.get(command);
    if (!child) {
      const label = this.commandNames.has(command) ? command : 'unknown';
      child = this.commandSeconds.labels({ command: label });
      if (label !== 'unknown') this.commandChildren.set(command, child);
    }
    child.observe(seconds);
  }

  storeCommitted(seconds: number, writes: number): void {
    this.commitSeconds.observe(seconds);
    this.commitWrites.observe(writes);
  }

  sendQueueDropped(transport: TransportName): void {
    this.sendqDrops.inc({ transport });
  }

  floodRefused(): void {
    this.floodRefusals.inc();
  }

  busPublished(type: string): void {
    let child = this.busOutChildren.get(type);
    if (!child) this.busOutChildren.set(type, (child = this.busOut.labels({ type })));
    child.inc();
  }

  busReceived(type: string, latencySeconds?: number): void {
    let child = this.busInChildren.get(type);
    if (!child) this.busInChildren.set(type, (child = this.busIn.labels({ type })));
    child.inc();
    if (latencySeconds !== undefined && latencySeconds >= 0)
      this.busLatency.observe(latencySeconds);
  }

  fileBytes(direction: 'in' | 'out', bytes: number): void {
    this.fileBytesTotal.inc({ direction }, bytes);
  }
}
