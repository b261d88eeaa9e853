import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Bus } from '../bus/bus.js';
import { LocalBus } from '../bus/local-bus.js';
import {
  ConfigError,
  type CertificateFiles,
  type ListenerSettings,
  type ServerConfig,
} from '../config/config.js';
import { isParameterKey } from '../config/parameters.js';
import type { Logger } from '../core/logger.js';
import type { Store } from '../store/store.js';
import { ChatCore } from '../core/chat-core.js';
import type { SessionDirectory } from '../core/directory/directory.js';
import { systemClock, type Clock } from '../core/clock.js';
import { ALL_COMMANDS } from '../core/commands/index.js';
import { openLogs, type LogWatcher } from '../logging/logs.js';
import { DiskBlobStore, type BlobStore } from '../store/blobs.js';
import { openStore } from './open-store.js';
import { FileService, filesOf } from '../core/files/file-service.js';
import { ConnectionSet } from '../transport/layer/connection-set.js';
import { NativeListener } from '../transport/native/listener.js';
import { createIrcShared, IrcListener } from '../transport/irc/listener.js';
import { WebSocketEndpoint } from '../transport/websocket/endpoint.js';
import { VERSION } from '../version.js';
import { defaultWebRoot } from '../web/static-files.js';
import { FILE_ROUTE, fileRoutes } from '../web/file-route.js';
import { WebListener } from '../web/web-listener.js';
import { loadPasswordPolicy } from '../core/accounts/passwords.js';
import { ensureAdminAccount, type AdminBootstrap } from './admin-bootstrap.js';
import { instrumentBus } from '../metrics/instrumented-bus.js';
import { PrometheusTelemetry } from '../metrics/prometheus.js';
import { noTelemetry } from '../telemetry/telemetry.js';
import { livenessRoute, metricsRoute, readinessRoute } from '../metrics/routes.js';
import { AddressList } from '../transport/address-list.js';
import { NodeIds } from '../core/ids/node-ids.js';
import { replayBusGap } from '../core/nodes/bus-gap-replay.js';
import { joinCluster, randomNodeId, type ClusterMembership } from './cluster.js';

export interface StartOptions {
  readonly clock?: Clock;
  /** Password for the admin account if the data directory has none yet. */
  readonly adminPassword?: string;
  /** Where transferred files' bytes go; default `<dataDir>/files` (tests inject faults). */
  readonly blobs?: BlobStore;
  /**
   * The store to use; default the embedded SQLite store in the data directory. The server
   * owns it from here on and closes it when it stops.
   */
  readonly store?: Store;
  /**
   * Count and time what happens, for `/metrics` (default on). Off only to measure what the
   * metrics cost (`npm run bench`).
   */
  readonly metrics?: boolean;
  /**
   * Tests: the web listener's port instead of `config.server.webPort` (0 here means any
   * free port, where the setting's 0 means off); `false` turns it off.
   */
  readonly webPort?: number | false;
  /** The built web client to serve; default `dist/web` of this package. */
  readonly webRoot?: string;
  /**
   * The store is shared with other nodes in this process (the multi-node test): the
   * server leaves closing it to its owner.
   */
  readonly sharedStore?: boolean;
  /** The bus to the other nodes; default an in-process bus of this node alone (the server
   * closes only a bus it made). */
  readonly bus?: Bus;
  /** Who is online on every node; default this process's memory. */
  readonly directory?: SessionDirectory;
}

/** A listener and the address it got. */
export interface ListeningAddress extends ListenerSettings {
  readonly address: AddressInfo;
}

interface OpenListener {
  readonly settings: ListenerSettings;
  readonly listener: { listen(): Promise<AddressInfo>; stopAccepting(): Promise<void> };
}

/** The web listener's certificate when the config turned it off but a test turns it on. */
function webCertificateOf(config: ServerConfig): CertificateFiles | undefined {
  const { webCertificate, tlsCert, tlsKey } = config.server;
  return webCertificate ?? (tlsCert && tlsKey ? { cert: tlsCert, key: tlsKey } : undefined);
}

export interface RunningServer {
  /** The main port's listener (`--port`): native TCP, or TLS when it is the TLS port. */
  readonly address: AddressInfo;
  /** Every listener, in the order of the config's plan, with the address it got. */
  readonly listening: readonly ListeningAddress[];
  /** Native TLS: the main port's when it is TLS, or `--tls-port`'s. */
  readonly tlsAddress: AddressInfo | undefined;
  /** The plain-TCP loopback listener next to a TLS one (`--loopback-port`), if any. */
  readonly loopbackAddress: AddressInfo | undefined;
  /** The IRC gateway's listeners (`--irc-port`, `--irc-tls-port`), if on. */
  readonly ircAddress: AddressInfo | undefined;
  readonly ircTlsAddress: AddressInfo | undefined;
  /** The web listener (browser client, `/ws`), unless `--web-port 0` turned it off. */
  readonly web: WebListener | undefined;
  readonly webAddress: AddressInfo | undefined;
  readonly core: ChatCore;
  /** The Prometheus metrics, when on. */
  readonly metrics: PrometheusTelemetry | undefined;
  readonly config: ServerConfig;
  readonly admin: AdminBootstrap;
  readonly logDir: string;
  /** Server-log lines as they are written (the server console shows logins, kicks, errors). */
  watchLogs(watcher: LogWatcher): () => void;
  /** Countdown to everyone, then a clean stop: sessions closed, store flushed. */
  stop(seconds?: number, reason?: string): Promise<void>;
  /**
   * The announced shutdown that `/shutdown` and signals share: countdown notices at
   * intervals, new logins refused, then `stop`. An admin can cancel it.
   */
  beginShutdown(seconds: number, reason?: string): void;
  /** Resolves once the server has stopped, whoever stopped it. */
  readonly stopped: Promise<void>;
}

/**
 * Wires one server process: store, bus, core and transports, all from one config.
 * Nothing here is global, so a test can run several servers in one process.
 */
export async function startServer(
  config: ServerConfig,
  options: StartOptions = {},
): Promise<RunningServer> {
  const clock = options.clock ?? systemClock;
  // Paid once at start rather than by the first /register.
  loadPasswordPolicy();
  // A bus given by a test names the node (several nodes in one process).
  const nodeId = options.bus?.nodeId ?? config.server.nodeId ?? randomNodeId();
  const logs = openLogs(config.server.dataDir, { node: nodeId });
  const metrics = options.metrics === false ? undefined : new PrometheusTelemetry();
  const telemetry = metrics ?? noTelemetry;
  const store = options.store ?? (await openStore(config.server.store, config.server.dataDir));
  store.instrument(telemetry);
  const ownsStore = options.sharedStore !== true;
  const admin = await ensureAdminAccount(store, options.adminPassword, clock.now());
  await loadLiveSettings(store, config, logs.logger);
  // This start's id block: what the node numbers itself is unique across nodes and restarts.
  const ids = await NodeIds.start(
    () => store.idBlocks.claim(nodeId, clock.now()),
    (error) => logs.logger.warn({ err: error }, 'could not claim the next id block'),
  ).catch(async (error: unknown) => {
    if (ownsStore) await store.close();
    throw error;
  });
  // `--bus redis://…`: this node joins a cluster (a bus and directory given by a test win).
  let cluster: ClusterMembership | undefined;
  if (!options.bus && config.server.bus.kind === 'redis') {
    try {
      cluster = await joinCluster(config.server.bus, nodeId, clock, logs.logger);
    } catch (error) {
      if (ownsStore) await store.close();
      throw error;
    }
  }
  const givenBus = options.bus ?? cluster?.bus ?? new LocalBus(undefined, nodeId);
  const bus = metrics ? instrumentBus(givenBus, metrics, clock.now) : givenBus;
  const directory = options.directory ?? cluster?.directory;
  const core = new ChatCore({
    ...(directory && { directory }),
    alone: !options.bus && !cluster && options.sharedStore !== true,
    config,
    store,
    bus,
    clock,
    logger: logs.logger,
    messageLog: logs.messageLog,
    auditLog: logs.auditLog,
    telemetry,
    commands: ALL_COMMANDS,
    version: VERSION,
    ids,
  });
  metrics?.watch(
    ALL_COMMANDS.map((command) => command.info.name),
    () => core.sessionCounts(),
  );
  await core.restore();
  if (cluster) followCluster(core, cluster);
  await FileService.install(
    core,
    options.blobs ?? store.blobs ?? new DiskBlobStore(path.join(config.server.dataDir, 'files')),
  );
  await core.admin.start();
  // Each certificate file is read once, however many listeners use it.
  const certificates = new Map<string, { cert: Buffer; key: Buffer }>();
  const certificate = (files: CertificateFiles | undefined) => {
    if (!files) return undefined;
    const id = `${files.cert}\0${files.key}`;
    let read = certificates.get(id);
    if (!read) {
      read = { cert: readFileSync(files.cert), key: readFileSync(files.key) };
      certificates.set(id, read);
    }
    return read;
  };
  // One set of connections across listeners: per-address limits count across them all.
  const connections = new ConnectionSet(core, logs.logger, telemetry);
  const trustedProxies = new AddressList(config.server.trustedProxies);
  const ircShared = createIrcShared(config.server.serverName, clock.now());
  const opened: OpenListener[] = [];
  for (const settings of config.server.listeners) {
    const tls = certificate(settings.certificate);
    const where = { host: settings.host, port: settings.port, ...(tls && { tls }) };
    if (settings.kind === 'native')
      opened.push({
        settings,
        listener: new NativeListener(core, logs.logger, connections, {
          ...where,
          // The loopback listener is for local tools, never a balancer: it reads no PROXY
          // header, so a balancer on this host (trusted at 127.0.0.1) leaves it usable.
          ...(settings.proxyProtocol && { trustedProxies }),
        }),
      });
    else if (settings.kind === 'irc')
      opened.push({
        settings,
        listener: new IrcListener(core, logs.logger, { ...where, connections, shared: ircShared }),
      });
  }
  // Tests choose the web port (0: any free one) or turn it off, whatever the config says.
  const configuredWeb = config.server.listeners.find((each) => each.kind === 'web');
  const webSettings: ListenerSettings | undefined =
    options.webPort === false
      ? undefined
      : options.webPort === undefined
        ? configuredWeb
        : {
            name: 'web',
            kind: 'web',
            host: config.server.webHost,
            port: options.webPort,
            certificate: configuredWeb?.certificate ?? webCertificateOf(config),
            proxyProtocol: false,
          };
  const webTls = certificate(webSettings?.certificate);
  const web =
    webSettings &&
    new WebListener(
      {
        host: webSettings.host,
        port: webSettings.port,
        webRoot: options.webRoot ?? defaultWebRoot(),
        trustedProxies: config.server.trustedProxies,
        ...(webTls && { tls: webTls }),
      },
      logs.logger,
    );
  if (web && webSettings) opened.push({ settings: webSettings, listener: web });
  const webSockets =
    web &&
    new WebSocketEndpoint(core, logs.logger, connections, {
      allowedOrigins: config.server.allowedOrigins,
      secure: web.isSecure,
    });
  if (web && webSockets) web.onUpgrade('/ws', webSockets.handleUpgrade);
  if (web) {
    if (metrics) {
      const allowed = new AddressList(config.server.metricsAllow);
      web.routes.add(
        'GET',
        '/metrics',
        metricsRoute(metrics, (address) => allowed.includes(address)),
      );
    }
    const fileRoute = fileRoutes(() => filesOf(core));
    web.routes.add('GET', FILE_ROUTE, fileRoute.get).add('PUT', FILE_ROUTE, fileRoute.put);
    web.routes.add('GET', '/healthz', livenessRoute());
    web.routes.add(
      'GET',
      '/readyz',
      readinessRoute(
        [
          { name: 'store', check: () => store.ping() },
          { name: 'bus', check: () => bus.ping() },
          ...(cluster
            ? [
                {
                  name: 'lease',
                  check: () =>
                    cluster.holdsLease
                      ? Promise.resolve()
                      : Promise.reject(new Error('this node holds no lease in the cluster')),
                },
              ]
            : []),
        ],
        () => core.isShuttingDown,
      ),
    );
  }
  const listening: ListeningAddress[] = [];
  try {
    for (const { settings, listener } of opened)
      listening.push({ ...settings, address: await listener.listen() });
  } catch (error) {
    webSockets?.stopAccepting();
    await Promise.all(opened.map(({ listener }) => listener.stopAccepting())).catch(
      () => undefined,
    );
    await cluster?.close();
    if (ownsStore) await store.close();
    throw error;
  }
  const addressOf = (name: ListenerSettings['name']) =>
    listening.find((each) => each.name === name)?.address;
  // The main port is the first listener, TCP or TLS.
  const address = listening[0]!.address;
  // Stopped by `core.shutdown`, once every session's logout is recorded.
  core.lastSeen.start();
  // Other nodes learn of this one (and it of them) from its first heartbeat.
  core.nodes.start();
  for (const each of listening)
    logs.logger.info(
      {
        event: 'listening',
        listener: each.name,
        address: each.address.address,
        port: each.address.port,
        tls: each.certificate !== undefined,
      },
      'listening',
    );

  let stopping: Promise<void> | undefined;
  let markStopped: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (markStopped = resolve));
  const stop = (seconds = 0, reason?: string): Promise<void> => {
    stopping ??= (async () => {
      webSockets?.stopAccepting();
      const accepting = Promise.all(opened.map(({ listener }) => listener.stopAccepting()));
      await core.shutdown(seconds, reason);
      await accepting;
      connections.destroyAll();
      web?.destroyAll();
      // What was given (a bus, a shared store) is closed by its owner.
      if (cluster) await cluster.close();
      else if (!options.bus) await bus.close();
      if (ownsStore) await store.close();
      logs.logger.info({ event: 'stopped' }, 'stopped');
      await logs.flush();
    })();
    stopping.then(markStopped, markStopped);
    return stopping;
  };
  core.admin.countdown.onStop((reason) => {
    stop(0, reason).catch((error: unknown) =>
      logs.logger.error({ err: error }, 'error while stopping'),
    );
  });
  const beginShutdown = (seconds: number, reason?: string) => {
    if (seconds === 0) void stop(0, reason);
    else core.admin.countdown.start(seconds, reason);
  };
  return {
    address,
    listening,
    tlsAddress: addressOf('native-tls'),
    loopbackAddress: addressOf('loopback'),
    ircAddress: addressOf('irc'),
    ircTlsAddress: addressOf('irc-tls'),
    web,
    webAddress: addressOf('web'),
    core,
    metrics,
    config,
    admin,
    logDir: logs.dir,
    watchLogs: (watcher) => logs.watch(watcher),
    stop,
    beginShutdown,
    stopped,
  };
}

/**
 * A cluster node's reactions to its membership: a node that lost its lease holds no
 * session (another node may have taken their nicknames, and bans made meanwhile never
 * reached it), and a node back in touch reads every cache again, since the invalidations
 * published while it was away never reached it.
 */
function followCluster(core: ChatCore, cluster: ClusterMembership): void {
  cluster.onLeaseLost(() => {
    const message = 'This server node lost contact with the cluster; connect again';
    for (const session of [...core.onlineSessions()]) {
      const link = session.link;
      core.endSession(session, 'dropped', message);
      link?.outlet.close('shutting_down', message);
    }
  });
  cluster.onReset(() => {
    void reclaimSessions(core, cluster).catch((error: unknown) =>
      core.logger.error({ err: error }, 'could not claim the sessions again'),
    );
  });
  cluster.onRejoined(() => {
    void resyncCaches(core).catch((error: unknown) =>
      core.logger.error({ err: error }, 'could not read the caches again after rejoining'),
    );
  });
  cluster.onBusBack((downSince) => {
    // After the resubscription the connection made when it came back has reached Redis
    // (it is the first command sent then): until it has, a publish could still pass by.
    setTimeout(() => {
      replayBusGap(core, downSince).catch((error: unknown) =>
        core.logger.error({ err: error }, 'could not replay what the bus missed'),
      );
    }, BUS_RESUBSCRIBED_MS).unref();
  });
}

/** Ample for a SUBSCRIBE sent on a fresh connection to have been handled by Redis. */
const BUS_RESUBSCRIBED_MS = 250;

/**
 * Redis restarted empty: every session of this node claims its nickname (and account)
 * again. One that another node's login took in the meantime ends here, so that no
 * nickname stays held twice.
 */
async function reclaimSessions(core: ChatCore, cluster: ClusterMembership): Promise<void> {
  for (const session of [...core.onlineSessions()]) {
    const holder = await cluster.directory.claim(
      {
        session: session.id,
        node: core.bus.nodeId,
        nick: session.nick,
        nickKey: session.nickKey,
        accountId: session.account?.id ?? null,
        admin: session.account?.role === 'admin',
        ...(session.account === null && { guest: session.guestKey }),
      },
      session.id,
    );
    if (!holder) continue;
    const link = session.link;
    const message = 'Your nickname was taken on another server node while the cluster recovered';
    core.endSession(session, 'dropped', message);
    link?.outlet.close('shutting_down', message);
  }
  // The resume records went too: without them no other node could take a session over.
  core.resume.saveAll();
  await resyncCaches(core);
}

async function resyncCaches(core: ChatCore): Promise<void> {
  await core.admin.moderation.reload('bans');
  await core.admin.moderation.reload('suspensions');
  await core.admin.moderation.reload('switches');
  const keys = new Set<string>(Object.keys(core.config.liveValues()));
  for (const { key } of await core.store.settings.liveValues()) keys.add(key);
  for (const key of keys) await core.reloadLiveSetting(key);
  const accounts = new Set<number>();
  for (const session of core.onlineSessions())
    if (session.account) accounts.add(session.account.id);
  for (const account of accounts) await core.blocks.reloadAccount(account);
}

/** Live changes made with `/config` before a restart go back into the live layer. */
async function loadLiveSettings(store: Store, config: ServerConfig, logger: Logger): Promise<void> {
  for (const { key, value } of await store.settings.liveValues()) {
    if (!isParameterKey(key)) {
      logger.warn({ event: 'live_setting_ignored', key }, 'stored live setting for unknown key');
      continue;
    }
    try {
      config.setLive(key, value);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      logger.warn(
        { event: 'live_setting_ignored', key, err: error.message },
        'stored live setting no longer valid',
      );
    }
  }
}
