import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import {
  PARAMETER_KEYS,
  PARAMETERS,
  type ParameterKey,
  type Parameters,
  environmentName,
  isParameterKey,
  parseParameter,
} from './parameters.js';
import { invalidAddressEntry } from '../transport/address-list.js';
import {
  LISTENER_KEYS,
  readListenerConfig,
  type ListenerConfig,
  type ListenerFlags,
} from './listeners.js';
import { ConfigError, SettingSource } from './sources.js';

export type { CertificateFiles, ListenerSettings } from './listeners.js';
export { DEFAULT_WEB_PORT } from './listeners.js';
export { ConfigError } from './sources.js';

/** Where a parameter's value came from, highest precedence first. */
export const CONFIG_SOURCES = ['command line', 'environment', 'live', 'file', 'default'] as const;
export type ConfigSource = (typeof CONFIG_SOURCES)[number];

/** Settings fixed for the life of the process (a restart changes them). */
export interface ServerSettings extends ListenerConfig {
  readonly dataDir: string;
  readonly serverName: string;
  /**
   * Origins (`scheme://host[:port]`) whose pages may open the WebSocket, besides the
   * server's own; empty allows only the server's own.
   */
  readonly allowedOrigins: readonly string[];
  /**
   * `net.trustedProxies`: addresses or CIDR blocks of balancers whose word on the client's
   * address is believed: a PROXY header on native listeners, `X-Forwarded-For` on the web one.
   */
  readonly trustedProxies: readonly string[];
  /** `metrics.allow`: addresses or CIDR blocks that may read `/metrics` (loopback by default). */
  readonly metricsAllow: readonly string[];
  readonly configFile: string | undefined;
  /** Where the data lives: the embedded SQLite in `dataDir`, or a shared PostgreSQL. */
  readonly store: StoreSettings;
  /** How nodes reach each other: in-process (one node) or Redis (a cluster). */
  readonly bus: BusSettings;
  /**
   * This node's name among the cluster's (`--node-id`); unset: a random one per start.
   * In every log line and the Redis connection names.
   */
  readonly nodeId: string | undefined;
}

export type BusSettings =
  | { readonly kind: 'local' }
  /** `redis://HOST:PORT/DB`, optionally `?prefix=NAME:` (several clusters on one Redis). */
  | { readonly kind: 'redis'; readonly url: string };

export type StoreSettings =
  | { readonly kind: 'sqlite' }
  | {
      readonly kind: 'postgres';
      /** `postgres://USER@HOST/DB`, optionally `?schema=NAME`. */
      readonly url: string;
      /** Most connections this node opens. */
      readonly poolSize: number;
      readonly statementTimeoutMs: number;
    };

type Layer = Partial<Record<ParameterKey, number | boolean>>;

export interface ConfigInputs {
  /** Values given as flags: `--host`, `--port`, `--data`, `--tls-*`, and `--set KEY=VALUE`. */
  readonly flags?: ListenerFlags & {
    data?: string;
    config?: string;
    store?: string;
    bus?: string;
    nodeId?: string;
    set?: readonly string[];
  };
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Base directory that relative paths in flags are resolved against. */
  readonly cwd?: string;
}

/**
 * The server's configuration: built once and validated at start-up, then passed in.
 * Parameters are read through `params`, a frozen snapshot replaced whenever a live
 * change or a reload of the file happens, so a reader never sees a half-applied change.
 */
export class ServerConfig {
  readonly server: ServerSettings;
  private readonly layers: Record<ConfigSource, Layer>;
  private snapshot: Parameters;
  private readonly listeners = new Set<(changed: readonly ParameterKey[]) => void>();

  private constructor(server: ServerSettings, layers: Record<ConfigSource, Layer>) {
    this.server = Object.freeze(server);
    this.layers = layers;
    this.snapshot = this.resolve();
  }

  static load(inputs: ConfigInputs = {}): ServerConfig {
    const flags = inputs.flags ?? {};
    const env = inputs.env ?? {};
    const cwd = inputs.cwd ?? process.cwd();
    const configFile = flags.config ?? env.CONFAB_CONFIG;
    const fileValues = configFile ? readConfigFile(path.resolve(cwd, configFile)) : {};

    const fileLayer: Layer = {};
    const serverFromFile: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(fileValues)) {
      if (isParameterKey(key)) fileLayer[key] = checked(key, value, `in ${configFile}`);
      else if (SERVER_KEYS.has(key)) serverFromFile[key] = value;
      else throw new ConfigError(key, `Unknown configuration key "${key}" in ${configFile}`);
    }

    const envLayer: Layer = {};
    for (const key of PARAMETER_KEYS) {
      const name = environmentName(key);
      const raw = env[name];
      if (raw !== undefined && raw !== '') envLayer[key] = checked(key, raw, `in ${name}`);
    }

    const cliLayer: Layer = {};
    for (const assignment of flags.set ?? []) {
      const eq = assignment.indexOf('=');
      const key = eq < 0 ? assignment : assignment.slice(0, eq);
      if (eq < 0 || !isParameterKey(key))
        throw new ConfigError(
          key,
          eq < 0
            ? `--set takes KEY=VALUE, got "${assignment}"`
            : `Unknown configuration key "${key}"`,
        );
      cliLayer[key] = checked(key, assignment.slice(eq + 1), 'in --set');
    }

    const fileDir = configFile ? path.dirname(path.resolve(cwd, configFile)) : cwd;
    const source = new SettingSource(env, serverFromFile, cwd, fileDir);
    const pick = source.pick.bind(source);
    const listenerConfig = readListenerConfig(flags, source);
    const store = storeSettings(
      pick(flags.store, 'CONFAB_STORE', 'store') ?? serverFromFile['store.url'],
      pick(undefined, 'CONFAB_STORE_POOL_SIZE', 'store.poolSize'),
      pick(undefined, 'CONFAB_STORE_STATEMENT_TIMEOUT_SECONDS', 'store.statementTimeoutSeconds'),
    );
    const bus = busSettings(pick(flags.bus, 'CONFAB_BUS', 'bus') ?? serverFromFile['bus.url']);
    const nodeId = nodeIdSetting(pick(flags.nodeId, 'CONFAB_NODE_ID', 'nodeId'));
    const originsRaw = env.CONFAB_WEB_ALLOWED_ORIGINS ?? serverFromFile['web.allowedOrigins'];
    const allowedOrigins = parseOrigins(
      typeof originsRaw === 'string' ? originsRaw.split(',') : originsRaw,
    );
    const proxiesRaw = env.CONFAB_TRUSTED_PROXIES ?? serverFromFile['net.trustedProxies'];
    const trustedProxies = stringList(
      'net.trustedProxies',
      typeof proxiesRaw === 'string' ? proxiesRaw.split(',') : proxiesRaw,
    );
    const badProxy = invalidProxyEntry(trustedProxies);
    if (badProxy) throw new ConfigError('net.trustedProxies', badProxy);
    const metricsRaw = env.CONFAB_METRICS_ALLOW ?? serverFromFile['metrics.allow'];
    const metricsAllow =
      metricsRaw === undefined
        ? DEFAULT_METRICS_ALLOW
        : stringList(
            'metrics.allow',
            typeof metricsRaw === 'string' ? metricsRaw.split(',') : metricsRaw,
          );
    const badMetrics = invalidProxyEntry(metricsAllow);
    if (badMetrics) throw new ConfigError('metrics.allow', badMetrics);

    const server: ServerSettings = {
      ...listenerConfig,
      dataDir: source.path(flags.data, 'CONFAB_DATA', 'data') ?? path.resolve(cwd, 'confab-data'),
      serverName: source.string(undefined, 'CONFAB_SERVER_NAME', 'serverName') ?? 'confab',
      allowedOrigins,
      trustedProxies,
      metricsAllow,
      configFile: configFile ? path.resolve(cwd, configFile) : undefined,
      store,
      bus,
      nodeId,
    };
    return new ServerConfig(server, {
      'command line': cliLayer,
      environment: envLayer,
      live: {},
      file: fileLayer,
      default: {},
    });
  }

  get params(): Parameters {
    return this.snapshot;
  }

  sourceOf(key: ParameterKey): ConfigSource {
    for (const source of CONFIG_SOURCES) if (this.layers[source][key] !== undefined) return source;
    return 'default';
  }

  /** Applies a live change (from `/config`); returns the value now in force. */
  setLive(key: ParameterKey, raw: unknown): number | boolean {
    this.layers.live[key] = checked(key, raw, '');
    this.update([key]);
    return this.snapshot[key];
  }

  resetLive(key: ParameterKey): void {
    delete this.layers.live[key];
    this.update([key]);
  }

  liveValues(): Layer {
    return { ...this.layers.live };
  }

  /** Replaces the file layer, as SIGHUP does; a bad file leaves the old values in force. */
  reloadFile(): readonly ParameterKey[] {
    const file = this.server.configFile;
    if (!file) return [];
    const fresh: Layer = {};
    for (const [key, value] of Object.entries(readConfigFile(file)))
      if (isParameterKey(key)) fresh[key] = checked(key, value, `in ${file}`);
    this.layers.file = fresh;
    const before = this.snapshot;
    this.snapshot = this.resolve();
    const changed = PARAMETER_KEYS.filter((key) => before[key] !== this.snapshot[key]);
    if (changed.length > 0) this.emit(changed);
    return changed;
  }

  onChange(listener: (changed: readonly ParameterKey[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private update(keys: readonly ParameterKey[]): void {
    this.snapshot = this.resolve();
    this.emit(keys);
  }

  private emit(keys: readonly ParameterKey[]): void {
    for (const listener of this.listeners) listener(keys);
  }

  private resolve(): Parameters {
    const values: Record<string, number | boolean> = {};
    for (const key of PARAMETER_KEYS) {
      let value: number | boolean = PARAMETERS[key].default;
      for (const source of CONFIG_SOURCES) {
        const candidate = this.layers[source][key];
        if (candidate !== undefined) {
          value = candidate;
          break;
        }
      }
      values[key] = value;
    }
    return Object.freeze(values) as Parameters;
  }
}

const SERVER_KEYS = new Set([
  ...LISTENER_KEYS,
  'data',
  'serverName',
  'store',
  'store.url',
  'store.poolSize',
  'store.statementTimeoutSeconds',
  'bus',
  'bus.url',
  'nodeId',
  'web.allowedOrigins',
  'net.trustedProxies',
  'metrics.allow',
]);

/** `store` is `sqlite` (the default) or a `postgres://` URL; the pool settings go with the latter. */
function storeSettings(url: unknown, poolSize: unknown, timeout: unknown): StoreSettings {
  if (url === undefined || url === null || url === '' || url === 'sqlite') {
    if (poolSize !== undefined || timeout !== undefined)
      throw new ConfigError(
        'store',
        'store.poolSize and store.statementTimeoutSeconds are for a PostgreSQL store (--store postgres://...)',
      );
    return { kind: 'sqlite' };
  }
  if (typeof url !== 'string' || !/^postgres(ql)?:\/\/./.test(url))
    throw new ConfigError(
      'store',
      `store must be "sqlite" or a postgres://USER@HOST/DATABASE URL, got "${String(url)}"`,
    );
  const whole = (value: unknown, key: string, fallback: number, max: number): number => {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > max)
      throw new ConfigError(
        key,
        `${key} must be a whole number from 1 to ${max}, got "${String(value)}"`,
      );
    return n;
  };
  return {
    kind: 'postgres',
    url,
    poolSize: whole(poolSize, 'store.poolSize', 10, 1000),
    statementTimeoutMs: whole(timeout, 'store.statementTimeoutSeconds', 5, 3600) * 1000,
  };
}

/** `bus` is `local` (the default: this process alone) or a `redis://` URL (a cluster). */
function busSettings(url: unknown): BusSettings {
  if (url === undefined || url === null || url === '' || url === 'local') return { kind: 'local' };
  if (typeof url !== 'string' || !/^rediss?:\/\/./.test(url))
    throw new ConfigError(
      'bus',
      `bus must be "local" or a redis://HOST:PORT/DB URL, got "${String(url)}"`,
    );
  return { kind: 'redis', url };
}

/** A node id names keys, channels and log lines: short, and nothing that needs quoting. */
function nodeIdSetting(raw: unknown): string | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  if (typeof raw !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(raw))
    throw new ConfigError(
      'nodeId',
      `node id must be 1 to 64 letters, digits and _ . -, got "${String(raw)}"`,
    );
  return raw;
}

function stringList(key: string, raw: unknown): readonly string[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new ConfigError(key, `${key} must be a list`);
  return Object.freeze(
    (raw as unknown[]).map((entry) => String(entry).trim()).filter((entry) => entry !== ''),
  );
}

/**
 * `web.allowedOrigins`: a list of origins as a browser sends them, so each is checked and
 * normalised once here (`HTTPS://Chat.Example:443/` becomes `https://chat.example`).
 */
function parseOrigins(raw: unknown): readonly string[] {
  const origins: string[] = [];
  for (const text of stringList('web.allowedOrigins', raw)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new ConfigError('web.allowedOrigins', `"${text}" is not an origin like https://host`);
    }
    if (
      (url.protocol !== 'http:' && url.protocol !== 'https:') ||
      (url.pathname !== '/' && url.pathname !== '') ||
      url.search ||
      url.username
    )
      throw new ConfigError(
        'web.allowedOrigins',
        `"${text}" is not an origin: only http(s)://host[:port], nothing after it`,
      );
    origins.push(url.origin);
  }
  return Object.freeze(origins);
}

function checked(key: ParameterKey, raw: unknown, where: string): number | boolean {
  const result = parseParameter(key, raw);
  if (!result.ok)
    throw new ConfigError(key, where ? `${result.message} (${where})` : result.message);
  return result.value;
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError('config', `Cannot read config file ${file}: ${(error as Error).message}`);
  }
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new ConfigError(
      'config',
      `Config file ${file} is not valid YAML: ${(error as Error).message}`,
    );
  }
  if (document === null || document === undefined) return {};
  if (typeof document !== 'object' || Array.isArray(document))
    throw new ConfigError('config', `Config file ${file} must hold a mapping of keys to values`);
  return flatten(document as Record<string, unknown>);
}

/** `{lockout: {attempts: 3}}` and `{'lockout.attempts': 3}` both become the dotted key. */
function flatten(object: Record<string, unknown>, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(object)) {
    const full = prefix + key;
    if (value !== null && typeof value === 'object' && !Array.isArray(value))
      Object.assign(out, flatten(value as Record<string, unknown>, `${full}.`));
    else out[full] = value;
  }
  return out;
}

/** Loopback only: metrics say how busy the server is, which is nobody else's business. */
const DEFAULT_METRICS_ALLOW: readonly string[] = Object.freeze(['127.0.0.0/8', '::1']);

/** Checks `net.trustedProxies` and `metrics.allow` entries once, at start; the first bad one's message. */
function invalidProxyEntry(cidrs: readonly string[]): string | undefined {
  for (const cidr of cidrs) {
    const problem = invalidAddressEntry(cidr);
    if (problem) return problem;
  }
  return undefined;
}
