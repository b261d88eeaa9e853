import { afterEach, describe, expect, it } from 'vitest';
import { LocalBus } from '../src/bus/local-bus.js';
import { instrumentBus } from '../src/metrics/instrumented-bus.js';
import { PrometheusTelemetry } from '../src/metrics/prometheus.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { errorOf, loginAdmin } from './admin/helpers.js';

const servers: TestServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.dispose();
});

/** One sample's value from the exposition text, or undefined when absent. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const prefix = labels === '' ? `${name} ` : `${name}{${labels}} `;
  const line = text.split('\n').find((row) => row.startsWith(prefix));
  return line === undefined ? undefined : Number(line.slice(prefix.length));
}

describe('metrics', () => {
  it('count logins, messages, deliveries, commands, sessions, store commits and refusals', async () => {
    const server = await startTestServer({ set: { 'flood.burst': 5, 'flood.perSecond': 1 } });
    servers.push(server);
    const metrics = server.server.metrics!;
    const admin = await loginAdmin(server);
    const alice = await server.connect('alice');
    const bob = await server.connect('bob');
    await errorOf((await server.open()).login('admin', 'wrong-password-here'));
    await alice.request('say', { text: 'hello all' });
    await alice.request('msg', { to: ['bob'], text: 'psst' });
    await admin.request('broadcast', { text: 'notice' });
    bob.destroy();
    await bob.closed();
    // Flood control: more requests at once than the burst allows.
    const burst = await Promise.allSettled(Array.from({ length: 12 }, () => alice.request('who')));
    expect(burst.some((outcome) => outcome.status === 'rejected')).toBe(true);

    const text = await metrics.render();
    expect(sample(text, 'confab_logins_total', 'result="ok"')).toBe(3);
    expect(sample(text, 'confab_logins_total', 'result="bad_password"')).toBe(1);
    expect(sample(text, 'confab_messages_total', 'kind="room"')).toBe(1);
    expect(sample(text, 'confab_messages_total', 'kind="private"')).toBe(1);
    expect(sample(text, 'confab_messages_total', 'kind="broadcast"')).toBe(1);
    // The lobby message reached admin and bob, the private one bob, the broadcast two others.
    expect(sample(text, 'confab_deliveries_total')).toBeGreaterThanOrEqual(5);
    expect(sample(text, 'confab_fanout_recipients_count')).toBeGreaterThanOrEqual(3);
    expect(sample(text, 'confab_command_duration_seconds_count', 'command="say"')).toBe(1);
    expect(sample(text, 'confab_command_duration_seconds_count', 'command="msg"')).toBe(1);
    expect(sample(text, 'confab_store_commit_writes_count')).toBeGreaterThanOrEqual(3);
    expect(sample(text, 'confab_flood_refusals_total')).toBeGreaterThanOrEqual(1);
    // bob dropped without quit: away, waiting to be resumed.
    expect(sample(text, 'confab_sessions', 'kind="guest"')).toBe(1);
    expect(sample(text, 'confab_sessions', 'kind="account"')).toBe(1);
    expect(sample(text, 'confab_sessions', 'kind="away"')).toBe(1);
    // Node's own metrics come along, with the event loop's lag.
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    for (const line of text.split('\n'))
      if (line.startsWith('# HELP ') && !/^# HELP (nodejs_|process_)/.test(line))
        expect(line).toMatch(/^# HELP confab_/);
  });

  it('keep unknown commands out of the label set', async () => {
    const server = await startTestServer();
    servers.push(server);
    const alice = await server.connect('alice');
    for (const cmd of ['no-such-1', 'no-such-2']) await errorOf(alice.request(cmd, {}));
    const text = await server.server.metrics!.render();
    expect(sample(text, 'confab_command_duration_seconds_count', 'command="unknown"')).toBe(2);
    expect(text).not.toContain('no-such');
  });
});

describe('the instrumented bus', () => {
  it('counts what a node publishes and what it hears from other nodes, with the crossing time', async () => {
    const telemetry = new PrometheusTelemetry();
    const network = new LocalBus();
    const here = instrumentBus(network, telemetry, () => 1_000_050);
    const received: string[] = [];
    here.subscribe((envelope) => received.push(envelope.type));
    const event = { ev: 'notice' as const, text: 'hi', id: 1, ts: 1_000_000 };
    // From this node: published, heard back, but not counted as received.
    here.publish({ type: 'event', origin: here.nodeId, target: { kind: 'everyone' }, event });
    // From another node on the same bus: counted, 50 ms after it was stamped.
    network.publish({ type: 'event', origin: 'elsewhere', target: { kind: 'everyone' }, event });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(received).toEqual(['event', 'event']);
    const text = await telemetry.render();
    expect(sample(text, 'confab_bus_published_total', 'type="event"')).toBe(1);
    expect(sample(text, 'confab_bus_received_total', 'type="event"')).toBe(1);
    expect(sample(text, 'confab_bus_latency_seconds_sum')).toBeCloseTo(0.05, 5);
    await here.close();
  });
});

describe('/metrics, /healthz and /readyz on the web listener', () => {
  it('answer metrics to loopback only, and say when the server is ready', async () => {
    const server = await startTestServer({ web: true });
    servers.push(server);
    const base = `http://127.0.0.1:${server.server.webAddress!.port}`;
    await server.connect('alice');
    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    const text = await metrics.text();
    expect(sample(text, 'confab_logins_total', 'result="ok"')).toBe(1);
    expect(sample(text, 'confab_connections', 'transport="native"')).toBe(1);
    // A client the balancer says is elsewhere is refused: X-Forwarded-For is believed from
    // trusted proxies only, so this one is still loopback.
    expect(
      (await fetch(`${base}/metrics`, { headers: { 'X-Forwarded-For': '203.0.113.9' } })).status,
    ).toBe(200);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.text()).toBe('ready\n');
  });

  it('refuse /metrics to an address outside metrics.allow', async () => {
    const server = await startTestServer({
      web: true,
      env: { CONFAB_METRICS_ALLOW: '10.0.0.0/8' },
    });
    servers.push(server);
    const base = `http://127.0.0.1:${server.server.webAddress!.port}`;
    const refused = await fetch(`${base}/metrics`);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('metrics.allow');
  });

  it('/readyz answers 503 once the store is gone', async () => {
    const server = await startTestServer({ web: true });
    servers.push(server);
    const base = `http://127.0.0.1:${server.server.webAddress!.port}`;
    await server.server.core.store.close();
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.text()).toContain('store');
  });
});
