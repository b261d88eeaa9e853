import type { CertificateFiles } from './config.js';

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
