import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where ONNX models run: `auto` tries CUDA and falls back to the CPU. */
export type Device = 'auto' | 'cpu' | 'cuda';

export const DEVICES: readonly Device[] = ['auto', 'cpu', 'cuda'];

/** Which ONNX files the networks load: the float ones, or the int8 ones `npm run models:build` quantises (tools/quantize). */
export type Precision = 'fp32' | 'int8';

export const PRECISIONS: readonly Precision[] = ['fp32', 'int8'];

/** Everything the service reads from its environment, validated once. */
export interface Config {
  readonly device: Device;
  /**
   * ONNX Runtime intra-op threads; 0 lets ONNX Runtime choose. Default 1: each network has its own
   * session, and their thread pools fight over the cores when photos are in flight concurrently
   * (bench:pipeline measured 1 thread 2–3x faster than the default on 2 cores).
   */
  readonly threads: number;
  /**
   * FACE3D_PRECISION: `int8` runs the networks that int8 makes faster from their quantised files
   * (src/inference/networks.ts, INT8_NETWORKS), the others stay float; `fp32` runs every network float.
   */
  readonly precision: Precision;
  readonly batchMax: number;
  readonly batchDelayMs: number;
  readonly maxImageBytes: number;
  readonly maxImagePixels: number;
  /** Absolute path. */
  readonly modelsDir: string;
  /**
   * The bundles served, each a bundle id under modelsDir or a path to a bundle directory; the first
   * is the default of requests that name none. Every enrolled face gets a vector under each.
   */
  readonly bundles: readonly string[];
  /**
   * The share of strangers an identification may name (false-positive identification rate): the
   * default threshold is set for it at the gallery's current size, where the bundle publishes its
   * impostor curve (src/gallery/decision.ts).
   */
  readonly targetFpir: number;
  /** `file:<path>` of the SQLite gallery; a relative path is taken from the working directory. */
  readonly databaseUrl: string;
  /** Where photo bytes are kept, content-addressed; undefined: a folder named after the database (src/store/photo-folder.ts). */
  readonly dataDir: string | undefined;
  /** SQLite: how long a write waits for another process's lock before DATABASE_BUSY. */
  readonly busyTimeoutMs: number;
  readonly host: string;
  /** 0 picks a free port (tests). */
  readonly port: number;
  /** Bootstraps an admin API key at start-up; stored hashed like any other key. */
  readonly adminKey: string | undefined;
  /** Files per multipart request. Each file is limited by maxImageBytes. */
  readonly maxUploadFiles: number;
  readonly maxQueryDepth: number;
  /** Estimated fields a query may resolve, list sizes multiplied in (see src/api/limits.ts). */
  readonly maxQueryCost: number;
  /**
   * Enrollment jobs run at once by this process; 0: none (an API-only process, with `face3d worker`
   * processes elsewhere). Default 4: concurrent jobs share each network call (the micro-batcher) and
   * their saves (one transaction), 1.7x the photos per second of one job at a time (docs/BENCHMARKS.md §17).
   */
  readonly workers: number;
  /** Worker threads that make mesh downloads, off the event loop (issue 18); 0: in the request's own thread. */
  readonly meshThreads: number;
  /** Mesh downloads that may wait for one of those threads; one more is refused with RATE_LIMITED (HTTP 429). */
  readonly meshQueue: number;
  /** How often this process reads the change feed to learn other processes' enrollments and deletes. */
  readonly syncIntervalMs: number;
  /** A running job's claim, renewed while it runs; a dead worker's jobs are taken again once it lapses (PostgreSQL). */
  readonly jobLeaseMs: number;
  /** Requests per minute per API key (per client address without a valid key); 0: unlimited. */
  readonly rateLimitPerMinute: number;
  /**
   * FACE3D_PUBLIC_URL: where clients reach this server (`https://faces.example.com`, or with a
   * path prefix behind a proxy), the start of every photo and mesh URL it hands out; unset: the
   * request's Host header when it is a plain host[:port]. Without a trailing slash.
   */
  readonly publicUrl: string | undefined;
  /** Origins whose browser pages may call the API (CORS); empty: same-origin pages only. */
  readonly corsOrigins: readonly string[];
  /** NODE_ENV=production: no introspection. */
  readonly production: boolean;
  /**
   * FACE3D_DEBUG=1 or NODE_ENV=development: stack traces and internal error messages go to clients.
   * Never the default: a plain `npm start` must not describe the server's insides to callers.
   */
  readonly debug: boolean;
  /** Lowest level of the JSON log lines written (LOG_LEVEL). */
  readonly logLevel: LogLevel;
  /**
   * FACE3D_METRICS_PORT: /metrics, /healthz and /readyz on a port of their own (0 picks one), with
   * no key needed, for loopback or a network only Prometheus and the orchestrator reach; a worker serves them
   * only there. Unset: /metrics is on the API port and needs an API key of any role.
   */
  readonly metricsPort: number | undefined;
  /**
   * Where the metrics port listens; default 127.0.0.1 whatever HOST is: the port asks for no key,
   * so it reaches other hosts only when set (e.g. 0.0.0.0 for Kubernetes probes and Prometheus).
   */
  readonly metricsHost: string;
  /** On SIGTERM, how long in-flight requests and running jobs may take before the process exits anyway. */
  readonly drainTimeoutMs: number;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type Env = Readonly<Record<string, string | undefined>>;

export class ConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

const MIB = 1024 * 1024;

/** FACE3D_TARGET_FPIR's default: one stranger in a hundred given a name. */
export const DEFAULT_TARGET_FPIR = 0.01;

export const DEFAULT_DATABASE_URL = 'file:./data/face3d.db';

/**
 * The directory holding this package's package.json. Compiled code runs from `dist/src/` and
 * jest runs `src/` directly, so the root is found by walking up rather than by a fixed `..`.
 */
export function findPackageRoot(startDir: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = resolve(startDir); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${startDir}`);
  }
}

const ORIGIN_PATTERN = /^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$|^https?:\/\/\[[0-9a-f:.]+\](:\d{1,5})?$/i;

/** Reads variables one by one and collects every problem, so one error lists them all. */
class EnvReader {
  readonly problems: string[] = [];

  constructor(private readonly env: Env) {}

  /** Unset and blank both mean "use the default", as container environments often set blanks. */
  private raw(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === '' ? undefined : value;
  }

  integer(name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const text = this.raw(name);
    if (text === undefined) return fallback;
    const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
      this.problems.push(`${name} must be an integer ${range}, got "${text}"`);
      return fallback;
    }
    return value;
  }

  /** A number strictly between 0 and 1 (a rate). */
  fraction(name: string, fallback: number): number {
    const text = this.raw(name);
    if (text === undefined) return fallback;
    const value = /^(0|[1-9]\d*)?(\.\d+)?(e-?\d+)?$/i.test(text) ? Number(text) : Number.NaN;
    if (!(value > 0 && value < 1)) {
      this.problems.push(`${name} must be a number strictly between 0 and 1, got "${text}"`);
      return fallback;
    }
    return value;
  }

  /** Comma-separated, blanks dropped. */
  private items(name: string): string[] {
    return (this.raw(name) ?? '').split(',').map((item) => item.trim()).filter((item) => item !== '');
  }

  /** Duplicates are a problem. */
  list(name: string, fallback: readonly string[]): readonly string[] {
    const items = this.items(name);
    if (items.length === 0) return fallback;
    if (new Set(items).size !== items.length) this.problems.push(`${name} lists a bundle twice: "${items.join(',')}"`);
    return items;
  }

  /** Comma-separated web origins (`scheme://host[:port]`, as browsers send them in `Origin`). */
  origins(name: string): readonly string[] {
    const items = this.items(name);
    const bad = items.filter((item) => !ORIGIN_PATTERN.test(item));
    if (bad.length > 0) this.problems.push(`${name} must list origins like https://app.example.com (no path, no wildcard), got "${bad.join(',')}"`);
    return items.filter((item) => ORIGIN_PATTERN.test(item));
  }

  /** An http(s) URL with no credentials, query or fragment; returned without its trailing slash. */
  publicUrl(name: string): string | undefined {
    const text = this.raw(name);
    if (text === undefined) return undefined;
    let url: URL | undefined;
    try {
      url = new URL(text);
    } catch {
      url = undefined;
    }
    if (!url || !['http:', 'https:'].includes(url.protocol) || url.username || url.password || url.search || url.hash || text.includes('?') || text.includes('#')) {
      this.problems.push(`${name} must be an http(s) URL like https://faces.example.com or https://example.com/face3d (no query, fragment or credentials), got "${text}"`);
      return undefined;
    }
    return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const text = this.raw(name)?.toLowerCase();
    if (text === undefined) return fallback;
    if ((allowed as readonly string[]).includes(text)) return text as T;
    this.problems.push(`${name} must be one of ${allowed.join(', ')}, got "${text}"`);
    return fallback;
  }

  /** A relative value is taken from the working directory, like any path typed in a shell. */
  path(name: string, fallback: string): string {
    const text = this.raw(name);
    return text === undefined ? fallback : resolve(text);
  }

  optionalPath(name: string): string | undefined {
    const text = this.raw(name);
    return text === undefined ? undefined : resolve(text);
  }

  matching(name: string, pattern: RegExp, rule: string, fallback: string): string {
    const text = this.raw(name);
    if (text === undefined) return fallback;
    if (pattern.test(text)) return text;
    this.problems.push(`${name} ${rule}, got "${text}"`);
    return fallback;
  }

  /** Secrets are never echoed back in problems. */
  secret(name: string, minLength: number): string | undefined {
    const text = this.raw(name);
    if (text === undefined || text.length >= minLength) return text;
    this.problems.push(`${name} must be at least ${minLength} characters long (try \`openssl rand -hex 32\`)`);
    return undefined;
  }
}

/** Admin keys guard deletes and key management; anything shorter is guessable. */
export const MIN_ADMIN_KEY_LENGTH = 24;

/** Validates `env` into a frozen Config; throws a ConfigError naming every bad variable. */
export function loadConfig(env: Env = process.env): Config {
  const read = new EnvReader(env);
  const loaded: Config = {
    device: read.oneOf('FACE3D_DEVICE', DEVICES, 'auto'),
    threads: read.integer('FACE3D_THREADS', 1, 0, 1024),
    precision: read.oneOf('FACE3D_PRECISION', PRECISIONS, 'fp32'),
    batchMax: read.integer('FACE3D_BATCH_MAX', 8, 1, 1024),
    batchDelayMs: read.integer('FACE3D_BATCH_DELAY_MS', 5, 0, 60_000),
    maxImageBytes: read.integer('FACE3D_MAX_IMAGE_BYTES', 20 * MIB, 1),
    maxImagePixels: read.integer('FACE3D_MAX_IMAGE_PIXELS', 40_000_000, 1),
    modelsDir: read.path('FACE3D_MODELS_DIR', join(findPackageRoot(), 'models')),
    bundles: read.list('FACE3D_BUNDLES', ['lfw-facemesh-v2']),
    targetFpir: read.fraction('FACE3D_TARGET_FPIR', DEFAULT_TARGET_FPIR),
    databaseUrl: read.matching('DATABASE_URL', /^(file:[^?]+|postgres(ql)?:\/\/\S+|pglite:\S+)$/, 'must be file:<path> (SQLite), postgres://… (PostgreSQL) or pglite:<dir>', DEFAULT_DATABASE_URL),
    dataDir: read.optionalPath('FACE3D_DATA_DIR'),
    busyTimeoutMs: read.integer('FACE3D_BUSY_TIMEOUT_MS', 10_000, 0, 600_000),
    host: read.matching('HOST', /^[\w.:-]+$/, 'must be a host name or IP address', '0.0.0.0'),
    port: read.integer('PORT', 4000, 0, 65_535),
    adminKey: read.secret('FACE3D_ADMIN_KEY', MIN_ADMIN_KEY_LENGTH),
    maxUploadFiles: read.integer('FACE3D_MAX_UPLOAD_FILES', 20, 1, 1000),
    maxQueryDepth: read.integer('FACE3D_MAX_QUERY_DEPTH', 12, 2, 100),
    maxQueryCost: read.integer('FACE3D_MAX_QUERY_COST', 5000, 10),
    workers: read.integer('FACE3D_WORKERS', 4, 0, 64),
    meshThreads: read.integer('FACE3D_MESH_THREADS', 1, 0, 16),
    meshQueue: read.integer('FACE3D_MESH_QUEUE', 16, 0, 1000),
    syncIntervalMs: read.integer('FACE3D_SYNC_MS', 1000, 50, 600_000),
    jobLeaseMs: read.integer('FACE3D_JOB_LEASE_MS', 60_000, 1000, 3600_000),
    rateLimitPerMinute: read.integer('FACE3D_RATE_LIMIT', 0, 0),
    publicUrl: read.publicUrl('FACE3D_PUBLIC_URL'),
    corsOrigins: read.origins('FACE3D_CORS_ORIGINS'),
    production: env.NODE_ENV?.trim() === 'production',
    debug: read.oneOf('FACE3D_DEBUG', ['0', '1'], '0') === '1' || env.NODE_ENV?.trim() === 'development',
    logLevel: read.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
    metricsPort: env.FACE3D_METRICS_PORT?.trim() ? read.integer('FACE3D_METRICS_PORT', 0, 0, 65_535) : undefined,
    metricsHost: read.matching('FACE3D_METRICS_HOST', /^[\w.:-]+$/, 'must be a host name or IP address', '127.0.0.1'),
    drainTimeoutMs: read.integer('FACE3D_DRAIN_MS', 30_000, 0, 3600_000),
  };
  if (read.problems.length > 0) throw new ConfigError(read.problems);
  return Object.freeze(loaded);
}

/** Every default, nothing read from the environment: what code given no Config falls back to (tests, tools). */
export const DEFAULT_CONFIG: Config = loadConfig({});

let cached: Config | undefined;

/** The process configuration, read from process.env on first use. */
export function config(): Config {
  cached ??= loadConfig();
  return cached;
}
