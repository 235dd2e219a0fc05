/**
 * The one place that reads the environment. Everything else receives a typed, validated
 * {@link Config}. A bad value stops the process at start with one {@link ConfigError} whose
 * message lists every bad variable, its value (never for secrets) and what was expected.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from './errors.js';
import { CONFIG_VARIABLES, SECRET_VARIABLES, envSchema } from './config-env.js';

export { CONFIG_VARIABLES, MAX_BATCH_RECORDS, SECRET_VARIABLES } from './config-env.js';

/** How the fleet authenticates to TMDB (API v3 docs, "Authentication"). */
export type TmdbCredential = { kind: 'bearer'; token: string } | { kind: 'api_key'; key: string };

/** Endpoint, region, addressing style and credentials of an S3 client. */
export interface S3Connection {
  endpoint: string | undefined;
  region: string;
  forcePathStyle: boolean;
  /** S3_TIMEOUT_MS: how long a connection may stay silent before the request is abandoned (and retried), ms. */
  timeoutMs: number;
  credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
}

/** Validated configuration; see README "Configuration" for every field. */
export interface Config {
  redis: {
    url: string;
    prefix: string;
    /** REDIS_WAIT_MS */
    waitMs: number;
    /** REDIS_URL was set (environment or ./.env): never look for 127.0.0.1:6379 or a private Redis. */
    urlSet: boolean;
  };
  /** TMDB_FLEET_HOME: this machine's state directory (the private Redis's), as given (relative to the cwd). */
  home: string;
  tmdb: {
    baseUrl: string;
    /** Daily ID exports' base URL (TMDB_FILES_BASE_URL), without a trailing `/`. */
    filesBaseUrl: string;
    credential: TmdbCredential | undefined;
    rateLimitRps: number;
    language: string | undefined;
    timeoutMs: number;
  };
  lake: ({ kind: 's3'; bucket: string; prefix: string } & S3Connection) | { kind: 'local'; dir: string; prefix: string };
  /** How to reach S3 for `sync` (its own s3:// buckets), whether or not the lake is on S3. */
  s3: S3Connection;
  /** `sync --watch`: the S3 event webhook's shared secret (undefined: off) and the lease of a watch, ms. */
  sync: { webhookSecret: string | undefined; watchLeaseMs: number };
  /** maxRecords and stagingMaxRecords: documents; maxWaitMs: ms. */
  batch: { maxRecords: number; maxWaitMs: number; stagingMaxRecords: number };
  /** Titles above which a backfill needs confirmation (BACKFILL_CONFIRM_TITLES). */
  backfillConfirmTitles: number;
  jobs: { concurrency: number; detailsMaxDepth: number; attempts: number; backoffMs: number };
  /** Share of titles or pages that may fail before a run ends as failed, 0..1. */
  runFailureThreshold: number;
  /** pino level (LOG_LEVEL; default info). */
  logLevel: string;
  /** LOG_LEVEL was set: on a terminal the default is warn instead (log.ts). */
  logLevelSet: boolean;
  /** Tests only: armed fault points (`FAULT_POINTS`). */
  faultPoints: string | undefined;
  /** A worker process's own `/metrics`: port (undefined: off, 0: any free port) and bind address. */
  workerMetrics: { port: number | undefined; host: string };
  dashboard: {
    host: string;
    port: number;
    readOnly: boolean;
    auth: { user: string; password: string } | undefined;
  };
}

/** `make(a, b)` when both values are set (config guarantees both or neither), else undefined. */
const both = <T>(a: string | undefined, b: string | undefined, make: (a: string, b: string) => T): T | undefined =>
  a && b ? make(a, b) : undefined;

/**
 * Reads and validates the environment.
 * @param env - the environment to read; defaults to `process.env`.
 * @throws ConfigError listing every bad variable (name, value unless secret, expectation).
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const raw: Record<string, string | undefined> = {};
  for (const name of CONFIG_VARIABLES) {
    const value = env[name];
    raw[name] = value === '' && name !== 'TMDB_LANGUAGE' ? undefined : value;
  }
  const parsed = envSchema.safeParse(raw);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0]);
      const secret = (SECRET_VARIABLES as readonly string[]).includes(name);
      const shown = secret ? '(hidden)' : JSON.stringify(raw[name]);
      problems.push(`${name}=${shown}: ${issue.message}`);
    }
  }
  const e = parsed.data;
  const isSet = (name: string) => (raw[name] ?? '').trim() !== '';
  for (const [a, b] of [
    ['DASHBOARD_USER', 'DASHBOARD_PASSWORD'],
    ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'],
  ] as const) {
    if (isSet(a) !== isSet(b)) problems.push(`${a} and ${b}: set both or neither`);
  }
  if (e && e.STAGING_MAX_RECORDS < e.BATCH_MAX_RECORDS) {
    problems.push(
      `STAGING_MAX_RECORDS=${JSON.stringify(raw.STAGING_MAX_RECORDS)}: expected at least BATCH_MAX_RECORDS (${e.BATCH_MAX_RECORDS}), or no full batch could ever be staged`,
    );
  }
  if (problems.length > 0 || !e) {
    throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const s3: S3Connection = {
    endpoint: e.AWS_ENDPOINT_URL_S3,
    region: e.AWS_REGION,
    forcePathStyle: e.S3_FORCE_PATH_STYLE,
    timeoutMs: e.S3_TIMEOUT_MS,
    credentials: both(e.AWS_ACCESS_KEY_ID, e.AWS_SECRET_ACCESS_KEY, (accessKeyId, secretAccessKey) => ({ accessKeyId, secretAccessKey })),
  };
  const credential: TmdbCredential | undefined = e.TMDB_ACCESS_TOKEN
    ? { kind: 'bearer', token: e.TMDB_ACCESS_TOKEN }
    : e.TMDB_API_KEY
      ? { kind: 'api_key', key: e.TMDB_API_KEY }
      : undefined;
  return {
    redis: { url: e.REDIS_URL, prefix: e.REDIS_PREFIX, waitMs: e.REDIS_WAIT_MS, urlSet: isSet('REDIS_URL') },
    home: e.TMDB_FLEET_HOME,
    tmdb: {
      baseUrl: e.TMDB_API_BASE_URL.replace(/\/+$/, ''),
      filesBaseUrl: e.TMDB_FILES_BASE_URL.replace(/\/+$/, ''),
      credential,
      rateLimitRps: e.TMDB_RATE_LIMIT_RPS,
      language: e.TMDB_LANGUAGE,
      timeoutMs: e.TMDB_TIMEOUT_MS,
    },
    lake: e.S3_BUCKET
      ? { kind: 's3', bucket: e.S3_BUCKET, prefix: e.S3_PREFIX, ...s3 }
      : { kind: 'local', dir: e.LAKE_DIR, prefix: e.S3_PREFIX },
    s3,
    sync: { webhookSecret: e.SYNC_WEBHOOK_SECRET, watchLeaseMs: e.SYNC_WATCH_LEASE_MS },
    batch: { maxRecords: e.BATCH_MAX_RECORDS, maxWaitMs: e.BATCH_MAX_WAIT_MS, stagingMaxRecords: e.STAGING_MAX_RECORDS },
    backfillConfirmTitles: e.BACKFILL_CONFIRM_TITLES,
    jobs: {
      concurrency: e.WORKER_CONCURRENCY,
      detailsMaxDepth: e.DETAILS_QUEUE_MAX_DEPTH,
      attempts: e.JOB_ATTEMPTS,
      backoffMs: e.JOB_BACKOFF_MS,
    },
    runFailureThreshold: e.RUN_FAILURE_THRESHOLD,
    logLevel: e.LOG_LEVEL,
    logLevelSet: isSet('LOG_LEVEL'),
    faultPoints: e.FAULT_POINTS,
    workerMetrics: { port: e.WORKER_METRICS_PORT, host: e.WORKER_METRICS_HOST },
    dashboard: {
      host: e.DASHBOARD_HOST,
      port: e.DASHBOARD_PORT,
      readOnly: e.DASHBOARD_READ_ONLY,
      auth: both(e.DASHBOARD_USER, e.DASHBOARD_PASSWORD, (user, password) => ({ user, password })),
    },
  };
}

/**
 * Loads `<dir>/.env` (if there is one) into the environment, the way Docker Compose and
 * dotenv do: `NAME=value` lines, `#` comments, quotes; a variable already set in the process
 * environment wins (Node's `process.loadEnvFile`).
 * @returns the file loaded, or undefined when there is none.
 * @throws ConfigError naming the file when it cannot be read or parsed.
 */
export function loadDotEnv(dir = process.cwd()): string | undefined {
  const file = path.join(dir, '.env');
  if (!existsSync(file)) return undefined;
  try {
    process.loadEnvFile(file);
  } catch (err) {
    throw new ConfigError(`invalid configuration:\n  ${file}: ${(err as Error).message}`);
  }
  return file;
}

/**
 * The TMDB credential, or a ConfigError naming the variables to set.
 * @throws ConfigError when neither TMDB_ACCESS_TOKEN nor TMDB_API_KEY is set.
 */
export function requireTmdbCredential(config: Config): TmdbCredential {
  if (!config.tmdb.credential) {
    throw new ConfigError(
      'invalid configuration:\n  TMDB_ACCESS_TOKEN or TMDB_API_KEY: set one (TMDB API Read Access Token or v3 API key)',
    );
  }
  return config.tmdb.credential;
}
