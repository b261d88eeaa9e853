import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, ServerConfig } from '../config/config.js';
import { describeBus, describeStore } from '../server/open-store.js';
import { startServer, type RunningServer } from '../server/server.js';
import { startConsole } from './console.js';
import type { ServeFlags } from './flags.js';

function listensEverywhere(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '';
}

/**
 * How to run the client from where the operator stands: `confab` when it is on the PATH
 * (installed globally), otherwise `npx confab`, which finds this checkout's own bin.
 */
function confabCommand(): string {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    for (const name of process.platform === 'win32' ? ['confab.cmd', 'confab.exe'] : ['confab'])
      if (existsSync(path.join(dir, name))) return 'confab';
  }
  return 'npx confab';
}

/** The addresses a client on this or another machine can use to reach the server. */
function reachableAddresses(host: string, port: number): string[] {
  if (!listensEverywhere(host)) return [`${host}:${port}`];
  const addresses = ['127.0.0.1'];
  for (const list of Object.values(os.networkInterfaces()))
    for (const entry of list ?? [])
      if (entry.family === 'IPv4' && !entry.internal) addresses.push(entry.address);
  return addresses.map((address) => `${address}:${port}`);
}

export async function runServe(flags: ServeFlags): Promise<number> {
  let config: ServerConfig;
  try {
    config = ServerConfig.load({
      flags: {
        host: flags.host,
        port: flags.port,
        data: flags.data,
        config: flags.config,
        tlsCert: flags.tlsCert,
        tlsKey: flags.tlsKey,
        loopbackPort: flags.loopbackPort,
        store: flags.store,
        bus: flags.bus,
        nodeId: flags.nodeId,
        ircPort: flags.ircPort,
        ircTlsPort: flags.ircTlsPort,
        webPort: flags.webPort,
        tlsPort: flags.tlsPort,
        tlsHost: flags.tlsHost,
        ircHost: flags.ircHost,
        ircCert: flags.ircCert,
        ircKey: flags.ircKey,
        webHost: flags.webHost,
        webCert: flags.webCert,
        webKey: flags.webKey,
        set: flags.set,
      },
      env: process.env,
    });
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`confab: configuration error (${error.key}): ${error.message}`);
      return 2;
    }
    throw error;
  }

  let server;
  try {
    server = await startServer(config, { adminPassword: process.env.CONFAB_ADMIN_PASSWORD });
  } catch (error) {
    console.error(`confab: cannot start: ${(error as Error).message}`);
    return 1;
  }
  const { port } = server.address;
  const [main] = server.listening;
  const scheme = main?.certificate ? 'TLS' : 'TCP';
  const everyInterface = listensEverywhere(config.server.host);
  console.log(
    `Confab ${server.core.version} listening (${scheme}) on${everyInterface ? ' every network interface' : ''}:`,
  );
  for (const address of reachableAddresses(config.server.host, port)) console.log(`  ${address}`);
  if (everyInterface)
    console.log('  (other machines can connect; to keep it to this one: --host 127.0.0.1)');
  for (const listener of server.listening.slice(1)) {
    const urls = reachableAddresses(listener.host, listener.address.port);
    switch (listener.name) {
      case 'native-tls':
        console.log(`and TLS on: ${urls.join('  ')}`);
        break;
      case 'loopback':
        console.log(`and plain TCP on loopback: 127.0.0.1:${listener.address.port}`);
        break;
      case 'irc':
        for (const url of urls) console.log(`IRC: ${url}`);
        break;
      case 'irc-tls':
        for (const url of urls) console.log(`IRC over TLS: ${url}`);
        break;
      case 'web': {
        const web = listener.certificate ? 'https' : 'http';
        console.log(`Browser: open ${urls.map((url) => `${web}://${url}`).join('  or  ')}`);
        break;
      }
      default:
        console.log(`${listener.name}: ${urls.join('  ')}`);
    }
  }
  console.log(`Data: ${config.server.dataDir}  Logs: ${server.logDir}`);
  if (config.server.store.kind !== 'sqlite')
    console.log(`Store: ${describeStore(config.server.store, config.server.dataDir)}`);
  if (config.server.bus.kind === 'redis')
    console.log(`Bus: ${describeBus(config.server.bus.url)}  Node: ${server.core.bus.nodeId}`);
  if (server.admin.kind === 'generated') {
    console.log('');
    console.log('Created the admin account. Its password, shown only this once:');
    console.log(`  ${server.admin.password}`);
    console.log("Log in as 'admin' with it; change it with /passwd.");
  }
  // Kept from before the restart: say so, or a locked server looks broken.
  const { moderation } = server.core.admin;
  if (moderation.isLocked) console.log('The server is locked: new logins are refused (/unlock)');
  if (moderation.isMonitoring)
    console.log('Monitoring is on: admins get copies of private messages (/monitor off)');
  console.log(
    `Connect with: ${confabCommand()} connect 127.0.0.1 ${port}${main?.certificate ? ' --tls' : ''} --nick NAME`,
  );

  const serverConsole = process.stdin.isTTY
    ? startConsole(server.core, process.stdin, process.stdout, server.watchLogs)
    : undefined;

  let signalled = false;
  const onSignal = (signal: string) => {
    if (signalled) {
      console.log(`${signal} again: stopping now`);
      void server.stop(0, `${signal}`);
      return;
    }
    signalled = true;
    const seconds = config.params['shutdown.noticeSeconds'];
    console.log(`${signal}: shutting down in ${seconds} seconds`);
    // The same path as /shutdown: countdown notices, logins refused, then a clean stop.
    server.beginShutdown(seconds);
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  // SIGTERM and SIGHUP do not exist on Windows.
  if (process.platform !== 'win32') {
    process.on('SIGTERM', () => onSignal('SIGTERM'));
    process.on('SIGHUP', () => reloadConfigFile(config, server));
  }

  await server.stopped;
  serverConsole?.close();
  console.log('Stopped.');
  return 0;
}

/** SIGHUP: re-read the config file; a bad file leaves the values in force unchanged. */
function reloadConfigFile(config: ServerConfig, server: RunningServer): void {
  if (!config.server.configFile) {
    console.log('SIGHUP: no config file to re-read (start with --config FILE)');
    return;
  }
  try {
    const changed = config.reloadFile();
    console.log(
      `SIGHUP: re-read ${config.server.configFile}` +
        (changed.length > 0 ? `; changed: ${changed.join(', ')}` : '; nothing changed'),
    );
    // A change of settings is an admin action, whichever way it came: it is audited as
    // `/config` is, with the file as the actor.
    if (changed.length > 0)
      void server.core.admin.auditAs(
        '(config file)',
        'config',
        changed.join(', '),
        `SIGHUP: re-read ${config.server.configFile}`,
      );
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`SIGHUP: kept the previous values: ${error.message}`);
  }
}
