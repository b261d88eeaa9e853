import type { ClientSpec } from './ipc.js';
import {
  clientSpecs,
  runLoad,
  settle,
  withRig,
  type LoadOutcome,
  type Row,
  type RunContext,
  type ScenarioResult,
} from './measure.js';
import {
  cpuRow,
  FIXED_DELIVERIES_PER_SECOND,
  integrityRow,
  latencyRows,
  pairSenders,
  roomSenders,
  SENDERS,
} from './scenarios.js';
import { formatCount } from './stats.js';

type Protocol = 'native' | 'irc';
const ROOM = 'bench';

function specsFor(protocol: Protocol, count: number, prefix: string): ClientSpec[] {
  return clientSpecs(count, prefix).map((spec) => ({ ...spec, protocol }));
}

interface Run {
  readonly fixed: LoadOutcome;
  readonly max: LoadOutcome;
}

/** One fresh server; `members` clients of one protocol in a room; paced, then flat out. */
async function fanoutRun(
  ctx: RunContext,
  protocol: Protocol,
  members: number,
  ms: number,
): Promise<Run> {
  return withRig(ctx, {}, async (server, generator) => {
    const port = protocol === 'irc' ? server.ircPort! : server.port;
    const connected = await generator.connect(port, specsFor(protocol, members, 'm'), 64);
    if (connected.failed > 0) throw new Error(`${protocol} fan-out setup: ${connected.firstError}`);
    await generator.call('create', { room: ROOM }, [0]);
    await generator.call(
      'join',
      { room: ROOM },
      Array.from({ length: members - 1 }, (_, i) => i + 1),
    );
    await settle(server);
    const recipients = members - 1;
    const perSender = FIXED_DELIVERIES_PER_SECOND / recipients / SENDERS;
    const fixed = await runLoad(
      server,
      generator,
      roomSenders(ROOM, perSender, 64),
      ms,
      recipients,
    );
    const max = await runLoad(server, generator, roomSenders(ROOM, 'max', 32), ms, recipients);
    return { fixed, max };
  });
}

/** One fresh server; `count` clients of one protocol in pairs sending private messages. */
async function pmRun(ctx: RunContext, protocol: Protocol, count: number, ms: number): Promise<Run> {
  return withRig(ctx, {}, async (server, generator) => {
    const port = protocol === 'irc' ? server.ircPort! : server.port;
    const specs = specsFor(protocol, count, 'p');
    const connected = await generator.connect(port, specs, 64);
    if (connected.failed > 0) throw new Error(`${protocol} pm setup: ${connected.firstError}`);
    await settle(server);
    const fixed = await runLoad(
      server,
      generator,
      pairSenders(specs, FIXED_DELIVERIES_PER_SECOND / count),
      ms,
      1,
    );
    const max = await runLoad(server, generator, pairSenders(specs, 'max'), ms, 1);
    return { fixed, max };
  });
}

function rowsFor(label: string, run: Run): Row[] {
  const fixedLabel = `${label}, ${formatCount(FIXED_DELIVERIES_PER_SECOND)} deliveries/s`;
  const maxLabel = `${label}, maximum rate`;
  return [
    ...latencyRows(fixedLabel, run.fixed),
    cpuRow(fixedLabel, run.fixed),
    integrityRow(fixedLabel, run.fixed),
    {
      metric: `${maxLabel}: delivered`,
      value: `${formatCount(run.max.deliveriesPerSecond)}/s (${formatCount(run.max.messagesPerSecond)} messages/s)`,
    },
    ...latencyRows(maxLabel, run.max),
    cpuRow(maxLabel, run.max),
    integrityRow(maxLabel, run.max),
  ];
}

/**
 * `npm run bench -- irc`: room fan-out and private messages through the IRC gateway beside
 * the same load over the native protocol, one fresh server per run, native and IRC
 * interleaved, so the gateway's cost reads message for message.
 */
export async function irc(ctx: RunContext): Promise<ScenarioResult> {
  const ms = ctx.quick ? 2000 : 5000;
  const rows: Row[] = [];
  const members = 100;
  const pairs = 100;
  for (const protocol of ['native', 'irc'] as const) {
    ctx.log(`  ${protocol}: room of ${members}…`);
    rows.push(
      ...rowsFor(`${protocol}, room of ${members}`, await fanoutRun(ctx, protocol, members, ms)),
    );
  }
  for (const protocol of ['native', 'irc'] as const) {
    ctx.log(`  ${protocol}: ${pairs} clients in pairs…`);
    rows.push(
      ...rowsFor(`${protocol}, ${pairs} clients in pairs`, await pmRun(ctx, protocol, pairs, ms)),
    );
  }
  return {
    name: 'irc',
    title: 'IRC gateway beside the native protocol (storage on)',
    rows,
    notes: [
      `The same loads as \`fanout\` and \`pm\` (${SENDERS} senders in a room of ${members}; ${pairs} clients in pairs), once over the native protocol and once over the IRC gateway, each on a fresh server. IRC clients negotiate echo-message: the echo of a PRIVMSG is its acknowledgement, as the reply is for a native client; a delivery is a PRIVMSG line read by a receiver. Latency is from the sender's write to the receiver's read.`,
    ],
  };
}
