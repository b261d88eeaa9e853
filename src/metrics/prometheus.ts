import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type {
  LoginResult,
  MessageKind,
  RefusalReason,
  Telemetry,
  TransportName,
} from '../telemetry/telemetry.js';
import {
  BucketHistogram,
  type Buckets,
  CountsByName,
  counterOf,
  entriesOf,
  labelledCounterOf,
  labelledGaugeOf,
} from './tallies.js';

/** Sessions on this node by kind, read when Prometheus scrapes. */
export interface SessionCounts {
  readonly guests: number;
  readonly accounts: number;
  readonly away: number;
}

const zeroByTransport = (): Record<TransportName, number> => ({ native: 0, websocket: 0, irc: 0 });

/**
 * The server's metrics in Prometheus' text format, with prom-client. Every name starts
 * with `confab_` (Node's default metrics keep their standard names); docs/operations.md
 * describes each one. Label values come from closed sets, except `command`, which is a
 * command of the table: an unknown request is counted as `unknown`, so a client cannot
 * grow the label set.
 *
 * What the core reports lands in plain numbers and buckets (`tallies.ts`), which prom-client
 * reads when Prometheus scrapes: a message costs a few additions, not five labelled
 * prom-client calls. A closed label set is listed in full from the start, zeros included.
 */
export class PrometheusTelemetry implements Telemetry {
  readonly registry = new Registry();
  private readonly open = zeroByTransport();
  private readonly accepted = zeroByTransport();
  private readonly sendqDrops = zeroByTransport();
  private readonly refusals: Record<RefusalReason, number> = {
    per_address: 0,
    rate: 0,
    server_full: 0,
    banned: 0,
    locked: 0,
  };
  private readonly logins: Record<LoginResult, number> = {
    ok: 0,
    resumed: 0,
    bad_password: 0,
    locked_out: 0,
    banned: 0,
    refused: 0,
  };
  private readonly messages: Record<MessageKind, number> = { room: 0, private: 0, broadcast: 0 };
  private readonly fileBytesMoved: Record<'in' | 'out', number> = { in: 0, out: 0 };
  private deliveries = 0;
  private floodRefusals = 0;
  /** By envelope type: the types a node has sent or heard so far. */
  private readonly busOut = new CountsByName();
  private readonly busIn = new CountsByName();
  private readonly fanout: Buckets;
  private readonly commitSeconds: Buckets;
  private readonly commitWrites: Buckets;
  private readonly busLatency: Buckets;
  private readonly commandSeconds: BucketHistogram;
  /** Each command of the table's series, found once; anything else goes to `unknown`. */
  private readonly commandSeries = new Map<string, Buckets>();
  private commandNames: ReadonlySet<string> = new Set();
  private sessionCounts: () => SessionCounts = () => ({ guests: 0, accounts: 0, away: 0 });

  /**
   * Made before the store and the core (both report to it); `watch` then tells it what the
   * core holds.
   */
  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    labelledGaugeOf(
      registers,
      'confab_connections',
      'Open client connections, by transport',
      'transport',
      () => entriesOf(this.open),
    );
    labelledCounterOf(
      registers,
      'confab_connections_total',
      'Client connections accepted, by transport',
      'transport',
      () => entriesOf(this.accepted),
    );
    labelledCounterOf(
      registers,
      'confab_connections_refused_total',
      'Connections refused before they were served, by reason',
      'reason',
      () => entriesOf(this.refusals),
    );
    // The collect callback below runs with `this` bound to the gauge.
    const counts = () => this.sessionCounts();
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
    labelledCounterOf(registers, 'confab_logins_total', 'Login attempts, by result', 'result', () =>
      entriesOf(this.logins),
    );
    labelledCounterOf(
      registers,
      'confab_messages_total',
      'Chat messages stored and acknowledged, by kind',
      'kind',
      () => entriesOf(this.messages),
    );
    counterOf(
      registers,
      'confab_deliveries_total',
      'Events handed to sessions on this node (one per recipient)',
      () => this.deliveries,
    );
    this.fanout = new BucketHistogram(
      registers,
      'confab_fanout_recipients',
      'Recipients on this node of one event',
      [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
    ).series;
    this.commandSeconds = new BucketHistogram(
      registers,
      'confab_command_duration_seconds',
      'Time from a request starting to its reply, by command',
      [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      'command',
    );
    this.commitSeconds = new BucketHistogram(
      registers,
      'confab_store_commit_duration_seconds',
      'Time of one store commit (a group of writes)',
      [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    ).series;
    this.commitWrites = new BucketHistogram(
      registers,
      'confab_store_commit_writes',
      'Writes carried by one store commit',
      [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000],
    ).series;
    labelledCounterOf(
      registers,
      'confab_sendq_drops_total',
      'Connections dropped because their send queue passed sendqBytes, by transport',
      'transport',
      () => entriesOf(this.sendqDrops),
    );
    counterOf(
      registers,
      'confab_flood_refusals_total',
      'Requests refused by flood control (rate_limited)',
      () => this.floodRefusals,
    );
    labelledCounterOf(
      registers,
      'confab_bus_published_total',
      'Messages this node published on the bus, by type',
      'type',
      () => this.busOut.entries(),
    );
    labelledCounterOf(
      registers,
      'confab_bus_received_total',
      'Messages this node received from other nodes on the bus, by type',
      'type',
      () => this.busIn.entries(),
    );
    this.busLatency = new BucketHistogram(
      registers,
      'confab_bus_latency_seconds',
      'Time from another node publishing a message to this node receiving it',
      [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    ).series;
    labelledCounterOf(
      registers,
      'confab_file_bytes_total',
      'File bytes received from clients (in) and sent to clients (out)',
      'direction',
      () => entriesOf(this.fileBytesMoved),
    );
  }

  /** The commands of the table (the `command` label's values) and the sessions gauge's source. */
  watch(commandNames: Iterable<string>, sessionCounts: () => SessionCounts): void {
    this.commandNames = new Set(commandNames);
    this.commandSeries.clear();
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
    this.open[transport]++;
    this.accepted[transport]++;
  }

  connectionClosed(transport: TransportName): void {
    this.open[transport]--;
  }

  connectionRefused(reason: RefusalReason): void {
    this.refusals[reason]++;
  }

  login(result: LoginResult): void {
    this.logins[result]++;
  }

  messageSent(kind: MessageKind): void {
    this.messages[kind]++;
  }

  fannedOut(recipients: number): void {
    this.deliveries += recipients;
    this.fanout.observe(recipients);
  }

  commandFinished(command: string, seconds: number): void {
    let series = this.commandSeries.get(command);
    if (!series) {
      const known = this.commandNames.has(command);
      series = this.commandSeconds.seriesFor(known ? command : 'unknown');
      // Unknown names are not kept: a client could send any number of them.
      if (known) this.commandSeries.set(command, series);
    }
    series.observe(seconds);
  }

  storeCommitted(seconds: number, writes: number): void {
    this.commitSeconds.observe(seconds);
    this.commitWrites.observe(writes);
  }

  sendQueueDropped(transport: TransportName): void {
    this.sendqDrops[transport]++;
  }

  floodRefused(): void {
    this.floodRefusals++;
  }

  busPublished(type: string): void {
    this.busOut.slot(type).count++;
  }

  busReceived(type: string, latencySeconds?: number): void {
    this.busIn.slot(type).count++;
    if (latencySeconds !== undefined && latencySeconds >= 0)
      this.busLatency.observe(latencySeconds);
  }

  fileBytes(direction: 'in' | 'out', bytes: number): void {
    this.fileBytesMoved[direction] += bytes;
  }
}
