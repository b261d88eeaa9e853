/** Flags as commander hands them to the subcommands. */
export interface ServeFlags {
  host?: string;
  port?: number;
  data?: string;
  config?: string;
  tlsCert?: string;
  tlsKey?: string;
  loopbackPort?: number;
  store?: string;
  bus?: string;
  nodeId?: string;
  ircPort?: number;
  ircTlsPort?: number;
  webPort?: number;
  tlsPort?: number;
  tlsHost?: string;
  ircHost?: string;
  ircCert?: string;
  ircKey?: string;
  webHost?: string;
  webCert?: string;
  webKey?: string;
  set: string[];
}

export interface ConnectFlags {
  nick?: string;
  passwordFile?: string;
  takeover?: boolean;
  tls?: boolean;
  ca?: string;
  downloads?: string;
  json?: boolean;
}
