#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { VERSION } from '../version.js';
import { adminCommand } from './admin/index.js';
import { registerMakeCert } from './admin/make-cert.js';
import { runConnect } from './connect.js';
import type { ConnectFlags, ServeFlags } from './flags.js';
import { runServe } from './serve.js';

function portNumber(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new InvalidArgumentError('a port is a whole number from 0 to 65535');
  return port;
}

const program = new Command()
  .name('confab')
  .description('A chat server and terminal client')
  .version(VERSION)
  .showHelpAfterError();

program
  .command('serve')
  .description('start a chat server')
  .argument('[port]', 'port to listen on (same as --port)', portNumber)
  .option('--host <host>', 'address to listen on (default 0.0.0.0)')
  .option('--port <port>', 'port to listen on (default 7777)', portNumber)
  .option('--data <dir>', 'data directory: database, files, logs (default ./confab-data)')
  .option('--config <file>', 'YAML config file')
  .option('--tls-cert <file>', 'TLS certificate (PEM)')
  .option('--tls-key <file>', 'TLS private key (PEM)')
  .option(
    '--tls-port <port>',
    'native TLS on its own port, beside plain TCP on --port (needs --tls-cert and --tls-key)',
    portNumber,
  )
  .option('--tls-host <host>', 'address the TLS port listens on (default: --host)')
  .option(
    '--loopback-port <port>',
    'with TLS: also accept plain TCP on 127.0.0.1 at this port (for local tools)',
    portNumber,
  )
  .option(
    '--store <url>',
    'where data lives: sqlite (default, in the data directory) or postgres://USER@HOST/DB (cluster)',
  )
  .option(
    '--bus <url>',
    'how nodes reach each other: local (default, one process) or redis://HOST:6379/N (cluster)',
  )
  .option('--node-id <name>', "this node's name in a cluster (default: random per start)")
  .option(
    '--irc-port <port>',
    'IRC gateway: accept IRC clients on this port (off by default)',
    portNumber,
  )
  .option(
    '--irc-tls-port <port>',
    'IRC gateway over TLS on this port (needs --tls-cert and --tls-key)',
    portNumber,
  )
  .option('--irc-host <host>', 'address the IRC ports listen on (default: --host)')
  .option('--irc-cert <file>', 'certificate (PEM) for IRC over TLS only (default: --tls-cert)')
  .option('--irc-key <file>', 'its private key (PEM)')
  .option(
    '--web-port <port>',
    'the browser client and its WebSocket endpoint (default 7780; 0 turns it off)',
    portNumber,
  )
  .option('--web-host <host>', 'address the web port listens on (default: --host)')
  .option('--web-cert <file>', 'certificate (PEM) for HTTPS only (default: --tls-cert)')
  .option('--web-key <file>', 'its private key (PEM)')
  .option(
    '--set <key=value>',
    'set a parameter (repeatable)',
    (value: string, previous: string[]) => [...previous, value],
    [] as string[],
  )
  .action(async (port: number | undefined, options: ServeFlags) => {
    process.exit(await runServe({ ...options, port: options.port ?? port }));
  });

program
  .command('connect')
  .description('connect to a chat server (full screen on a terminal, line mode otherwise)')
  .argument('[host]', 'server host, or HOST:PORT')
  .argument('[port]', 'server port', portNumber)
  .option('--nick <nick>', 'nickname')
  .option('--password-file <file>', 'read the account password from this file')
  .option('--takeover', "end this account's session elsewhere instead of being refused")
  .option('--tls', 'connect with TLS (self-signed servers are pinned on first use)')
  .option('--ca <file>', 'verify the server against this CA certificate (PEM); implies --tls')
  .option('--downloads <dir>', 'where downloaded files go')
  .option('--json', 'print one JSON object per event (line mode)')
  .action(async (host: string | undefined, port: number | undefined, options: ConnectFlags) => {
    // stdin may still be open: leave explicitly rather than wait for it.
    process.exit(await runConnect(host, port, options));
  });

program.addCommand(adminCommand());
registerMakeCert(program.commands.find((command) => command.name() === 'admin')!);

/**
 * Usage errors (unknown option, missing or bad argument) exit 2, as the README says;
 * commander's own default is 1, which scripts read as "server unreachable".
 */
function usageExitsTwo(command: Command): void {
  command.exitOverride((error) => {
    process.exit(error.exitCode === 1 ? 2 : error.exitCode);
  });
  for (const sub of command.commands) usageExitsTwo(sub);
}
usageExitsTwo(program);

await program.parseAsync(process.argv);
