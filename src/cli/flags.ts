/** Flags as commander hands them to the subcommands. */
export interface ServeFlags {
  host?: string;
  port?: number;
  data?: string;
  config?: string;
  tlsCert?: string;
  tlsKey?: string;
  set: string[];
}

export interface ConnectFlags {
  nick?: string;
  passwordFile?: string;
  tls?: boolean;
  ca?: string;
  downloads?: string;
  json?: boolean;
}
