import { ConfigError, type SettingSource } from './sources.js';

/** A PEM certificate and its key, as file paths. */
export interface CertificateFiles {
  readonly cert: string;
  readonly key: string;
}

export const DEFAULT_WEB_PORT = 7780;

/** What a listener speaks. */
export type ListenerKind = 'native' | 'irc' | 'web';

/** One listening socket the server opens: what it speaks, where, and with which certificate. */
export interface ListenerSettings {
  /** A stable name for logs, `confab serve`'s list and the running server's addresses. */
  readonly name: 'native' | 'native-tls' | 'loopback' | 'irc' | 'irc-tls' | 'web';
  readonly kind: ListenerKind;
  readonly host: string;
  /** 0: any free port (tests). */
  readonly port: number;
  /** TLS (HTTPS for the web listener) with this certificate; none for plain. */
  readonly certificate: CertificateFiles | undefined;
  /** Native listeners only: whether a PROXY header from `net.trustedProxies` is read. */
  readonly proxyProtocol: boolean;
}

export interface ListenerInputs {
  readonly host: string;
  readonly port: number;
  readonly serverCertificate: CertificateFiles | undefined;
  readonly tlsPort: number | undefined;
  readonly tlsHost: string;
  readonly loopbackPort: number | undefined;
  readonly ircHost: string;
  readonly ircPort: number | undefined;
  readonly ircTlsPort: number | undefined;
  readonly ircCertificate: CertificateFiles | undefined;
  readonly webHost: string;
  /** 0 turns the web listener off. */
  readonly webPort: number;
  readonly webCertificate: CertificateFiles | undefined;
}

export class ListenerConflictError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(message);
    this.name = 'ListenerConflictError';
  }
}

/** The config key that sets each listener's port, for error messages. */
const PORT_KEYS: Record<ListenerSettings['name'], string> = {
  native: 'port',
  'native-tls': 'tls.port',
  loopback: 'tls.loopbackPort',
  irc: 'irc.port',
  'irc-tls': 'irc.tlsPort',
  web: 'web.port',
};

const WILDCARDS = new Set(['0.0.0.0', '::', '']);

/**
 * The listeners one configuration opens. The main port is native TCP, or TLS when the
 * server has a certificate and no TLS port of its own (the behaviour from before `tls.port`
 * existed); with `tls.port`, plain TCP and TLS each have their port. Two listeners may not
 * share a port on overlapping addresses (the second would fail to start anyway; this says
 * which keys clash before anything opens).
 */
export function planListeners(inputs: ListenerInputs): ListenerSettings[] {
  const mainIsTls = inputs.serverCertificate !== undefined && inputs.tlsPort === undefined;
  const listeners: ListenerSettings[] = [
    {
      name: mainIsTls ? 'native-tls' : 'native',
      kind: 'native',
      host: inputs.host,
      port: inputs.port,
      certificate: mainIsTls ? inputs.serverCertificate : undefined,
      proxyProtocol: true,
    },
  ];
  if (inputs.tlsPort !== undefined)
    listeners.push({
      name: 'native-tls',
      kind: 'native',
      host: inputs.tlsHost,
      port: inputs.tlsPort,
      certificate: inputs.serverCertificate,
      proxyProtocol: true,
    });
  if (inputs.loopbackPort !== undefined)
    listeners.push({
      name: 'loopback',
      kind: 'native',
      host: '127.0.0.1',
      port: inputs.loopbackPort,
      certificate: undefined,
      // For local tools, never a balancer (see docs/protocol.md).
      proxyProtocol: false,
    });
  if (inputs.ircPort !== undefined)
    listeners.push({
      name: 'irc',
      kind: 'irc',
      host: inputs.ircHost,
      port: inputs.ircPort,
      certificate: undefined,
      proxyProtocol: false,
    });
  if (inputs.ircTlsPort !== undefined)
    listeners.push({
      name: 'irc-tls',
      kind: 'irc',
      host: inputs.ircHost,
      port: inputs.ircTlsPort,
      certificate: inputs.ircCertificate,
      proxyProtocol: false,
    });
  if (inputs.webPort !== 0)
    listeners.push({
      name: 'web',
      kind: 'web',
      host: inputs.webHost,
      port: inputs.webPort,
      certificate: inputs.webCertificate,
      proxyProtocol: false,
    });
  for (let i = 0; i < listeners.length; i++)
    for (let j = 0; j < i; j++) {
      const a = listeners[j]!;
      const b = listeners[i]!;
      const overlap = a.host === b.host || WILDCARDS.has(a.host) || WILDCARDS.has(b.host);
      if (a.port !== 0 && a.port === b.port && overlap)
        throw new ListenerConflictError(
          PORT_KEYS[b.name],
          `${PORT_KEYS[b.name]} and ${PORT_KEYS[a.name]} are both ${a.port} (on ${b.host} and ${a.host})`,
        );
    }
  return listeners;
}

/** The flags that place listeners (`confab serve --port`, `--tls-*`, `--irc-*`, `--web-*`). */
export interface ListenerFlags {
  host?: string;
  port?: string | number;
  tlsCert?: string;
  tlsKey?: string;
  loopbackPort?: string | number;
  ircPort?: string | number;
  ircTlsPort?: string | number;
  webPort?: string | number;
  tlsPort?: string | number;
  tlsHost?: string;
  ircHost?: string;
  ircCert?: string;
  ircKey?: string;
  webHost?: string;
  webCert?: string;
  webKey?: string;
}

/** Where the server listens: part of the settings fixed for the life of the process. */
export interface ListenerConfig {
  readonly host: string;
  readonly port: number;
  readonly tlsCert: string | undefined;
  readonly tlsKey: string | undefined;
  /** With TLS: a port on 127.0.0.1 that also takes plain TCP (local tools, benchmarks). */
  readonly loopbackPort: number | undefined;
  /**
   * Native TLS on a port of its own (`--tls-port`, `tls.port`), beside plain TCP on `port`.
   * Unset, a certificate makes `port` itself TLS (as before this setting existed).
   */
  readonly tlsPort: number | undefined;
  /** The address the native TLS port listens on (`--tls-host`, `tls.host`; default `host`). */
  readonly tlsHost: string;
  /** The IRC gateway's listening address (`--irc-host`, `irc.host`; default `host`). */
  readonly ircHost: string;
  /** A certificate for IRC over TLS only (`irc.cert`, `irc.key`); default the server's. */
  readonly ircCertificate: CertificateFiles | undefined;
  /** The web listener's address (`--web-host`, `web.host`; default `host`). */
  readonly webHost: string;
  /** A certificate for HTTPS only (`web.cert`, `web.key`); default the server's. */
  readonly webCertificate: CertificateFiles | undefined;
  /** Every listener this configuration opens, each with its address and certificate. */
  readonly listeners: readonly ListenerSettings[];
  /** The IRC gateway's plain port, off unless set (`--irc-port`, `irc.port`). */
  readonly ircPort: number | undefined;
  /** The IRC gateway over TLS (`--irc-tls-port`, `irc.tlsPort`); needs the certificate. */
  readonly ircTlsPort: number | undefined;
  /** The browser client and `/ws` (HTTPS with the TLS certificate); 0 turns it off. */
  readonly webPort: number;
}

/** The config file keys that place listeners. */
export const LISTENER_KEYS: readonly string[] = [
  'host',
  'port',
  'tls.cert',
  'tls.key',
  'tls.loopbackPort',
  'tls.port',
  'tls.host',
  'irc.host',
  'irc.cert',
  'irc.key',
  'irc.port',
  'irc.tlsPort',
  'web.host',
  'web.cert',
  'web.key',
  'web.port',
];

/** Reads and checks every listener setting, then plans the listeners (clashes included). */
export function readListenerConfig(flags: ListenerFlags, source: SettingSource): ListenerConfig {
  const portRaw = source.pick(flags.port, 'CONFAB_PORT', 'port') ?? 7777;
  const port = Number(portRaw);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new ConfigError('port', `port must be a whole number from 0 to 65535, got "${portRaw}"`);
  const tlsCert = source.path(flags.tlsCert, 'CONFAB_TLS_CERT', 'tls.cert');
  const tlsKey = source.path(flags.tlsKey, 'CONFAB_TLS_KEY', 'tls.key');
  if ((tlsCert === undefined) !== (tlsKey === undefined))
    throw new ConfigError('tls', 'TLS needs both a certificate (--tls-cert) and a key (--tls-key)');

  const loopbackRaw = source.pick(flags.loopbackPort, 'CONFAB_LOOPBACK_PORT', 'tls.loopbackPort');
  const loopbackPort = loopbackRaw === undefined ? undefined : Number(loopbackRaw);
  if (
    loopbackPort !== undefined &&
    (!Number.isInteger(loopbackPort) || loopbackPort < 0 || loopbackPort > 65535)
  )
    throw new ConfigError(
      'tls.loopbackPort',
      `the loopback port must be a whole number from 0 to 65535, got "${String(loopbackRaw)}"`,
    );
  if (loopbackPort !== undefined && tlsCert === undefined)
    throw new ConfigError(
      'tls.loopbackPort',
      'a plain loopback port is only for a TLS server (--tls-cert and --tls-key)',
    );

  const ircPort = source.port(flags.ircPort, 'CONFAB_IRC_PORT', 'irc.port');
  const ircTlsPort = source.port(flags.ircTlsPort, 'CONFAB_IRC_TLS_PORT', 'irc.tlsPort');
  if (
    ircTlsPort !== undefined &&
    tlsCert === undefined &&
    source.pick(flags.ircCert, 'CONFAB_IRC_CERT', 'irc.cert') === undefined
  )
    throw new ConfigError(
      'irc.tlsPort',
      'IRC over TLS needs a certificate (--tls-cert and --tls-key, or --irc-cert and --irc-key)',
    );
  const webRaw = source.pick(flags.webPort, 'CONFAB_WEB_PORT', 'web.port') ?? DEFAULT_WEB_PORT;
  const webPort = Number(webRaw);
  if (!Number.isInteger(webPort) || webPort < 0 || webPort > 65535)
    throw new ConfigError(
      'web.port',
      `the web port must be a whole number from 0 (off) to 65535, got "${String(webRaw)}"`,
    );
  const host = source.string(flags.host, 'CONFAB_HOST', 'host') ?? '0.0.0.0';
  const certificateFor = (prefix: 'irc' | 'web', flagCert?: string, flagKey?: string) => {
    const upper = prefix.toUpperCase();
    const cert = source.path(flagCert, `CONFAB_${upper}_CERT`, `${prefix}.cert`);
    const key = source.path(flagKey, `CONFAB_${upper}_KEY`, `${prefix}.key`);
    if ((cert === undefined) !== (key === undefined))
      throw new ConfigError(
        `${prefix}.cert`,
        `${prefix}.cert and ${prefix}.key go together (--${prefix}-cert and --${prefix}-key)`,
      );
    return cert && key ? { cert, key } : undefined;
  };
  const tlsPort = source.port(flags.tlsPort, 'CONFAB_TLS_PORT', 'tls.port');
  if (tlsPort !== undefined && tlsCert === undefined)
    throw new ConfigError(
      'tls.port',
      'a TLS port needs the server certificate (--tls-cert and --tls-key)',
    );
  const ircCertificate = certificateFor('irc', flags.ircCert, flags.ircKey);
  const webCertificate = certificateFor('web', flags.webCert, flags.webKey);
  const serverCertificate = tlsCert && tlsKey ? { cert: tlsCert, key: tlsKey } : undefined;
  const tlsHost = source.string(flags.tlsHost, 'CONFAB_TLS_HOST', 'tls.host') ?? host;
  const ircHost = source.string(flags.ircHost, 'CONFAB_IRC_HOST', 'irc.host') ?? host;
  const webHost = source.string(flags.webHost, 'CONFAB_WEB_HOST', 'web.host') ?? host;
  let listeners: readonly ListenerSettings[];
  try {
    listeners = Object.freeze(
      planListeners({
        host,
        port,
        serverCertificate,
        tlsPort,
        tlsHost,
        loopbackPort,
        ircHost,
        ircPort,
        ircTlsPort,
        ircCertificate: ircCertificate ?? serverCertificate,
        webHost,
        webPort,
        webCertificate: webCertificate ?? serverCertificate,
      }),
    );
  } catch (error) {
    if (error instanceof ListenerConflictError) throw new ConfigError(error.key, error.message);
    throw error;
  }
  return {
    host,
    port,
    tlsCert,
    tlsKey,
    loopbackPort,
    tlsPort,
    tlsHost,
    ircHost,
    ircCertificate,
    webHost,
    webCertificate,
    listeners,
    ircPort,
    ircTlsPort,
    webPort,
  };
}
