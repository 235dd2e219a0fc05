/**
 * The one place that reads the environment. Everything else receives a typed, validated
 * {@link Config}. A bad value stops the process at start with one {@link ConfigError} whose
 * message lists every bad variable, its value (never for secrets) and what was expected.
 */
import { z } from 'zod';
import { ConfigError } from './errors.js';

const intFrom = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, `expected a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const posNumber = (max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+(\.\d+)?$/, `expected a positive number up to ${max}`)
    .transform(Number)
    .pipe(z.number().positive().max(max));

const bool = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no']))
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const url = (protocols: string[]) =>
  z
    .string()
    .trim()
    .refine((v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    }, `expected a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`);

/**
 * Every environment variable the fleet reads, with its default. The keys of this schema are the
 * documented variable list (README "Configuration"); docker-compose may set only these.
 */
const envSchema = z.object({
  /** Redis for queues, run state and the shared rate limit. @defaultValue redis://127.0.0.1:6379 */
  REDIS_URL: url(['redis:', 'rediss:']).default('redis://127.0.0.1:6379'),
  /** Key prefix of every queue and run key; a `{hash tag}` keeps Redis Cluster happy. */
  REDIS_PREFIX: z
    .string()
    .trim()
    .regex(/^\{[A-Za-z0-9_.-]+\}$/, 'expected a hash tag such as {tmdb-fleet}')
    .default('{tmdb-fleet}'),
  /** TMDB API v3 base URL. @defaultValue https://api.themoviedb.org/3 */
  TMDB_API_BASE_URL: url(['http:', 'https:']).default('https://api.themoviedb.org/3'),
  /** TMDB API Read Access Token, sent as `Authorization: Bearer`. Secret. */
  TMDB_ACCESS_TOKEN: optionalText,
  /** TMDB v3 API key, sent as the `api_key` query parameter. Secret. */
  TMDB_API_KEY: optionalText,
  /** Fleet-wide ceiling on TMDB requests, requests/s, shared by every process. @defaultValue 40 */
  TMDB_RATE_LIMIT_RPS: posNumber(10_000).default(40),
  /** ISO 639-1 language (optionally with region) sent as `language`, e.g. en-US. */
  TMDB_LANGUAGE: z
    .string()
    .trim()
    .regex(/^([a-z]{2}(-[A-Z]{2})?)?$/, 'expected a language such as en or en-US')
    .optional()
    .transform((v) => (v ? v : undefined)),
  /** undici headers and body timeout for one TMDB request, ms. @defaultValue 10000 */
  TMDB_TIMEOUT_MS: intFrom(100, 300_000).default(10_000),
  /** Bucket of the raw zone. Unset: objects go under LAKE_DIR on local disk. */
  S3_BUCKET: optionalText.pipe(
    z
      .string()
      .refine(
        (v) =>
          /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(v) &&
          !/\.\.|\.-|-\./.test(v) &&
          !/^\d{1,3}(\.\d{1,3}){3}$/.test(v) &&
          !v.startsWith('xn--') &&
          !v.endsWith('-s3alias'),
        'expected an S3 bucket name: 3-63 lower-case letters, digits, dots or hyphens, starting and ending with a letter or digit, no "..", not an IP address',
      )
      .optional(),
  ),
  /** Key prefix of TMDB data objects. @defaultValue raw/tmdb */
  S3_PREFIX: z
    .string()
    .trim()
    .refine(
      (v) => !v.startsWith('/') && !v.endsWith('/') && !v.split('/').includes('..') && v !== '',
      'expected a relative key prefix without a leading or trailing "/" or ".." segments',
    )
    .default('raw/tmdb'),
  /** Use path-style S3 URLs (MinIO, s3rver). @defaultValue false */
  S3_FORCE_PATH_STYLE: bool.default(false),
  /** S3 endpoint (AWS SDK standard variable), e.g. http://minio:9000. */
  AWS_ENDPOINT_URL_S3: optionalText.pipe(url(['http:', 'https:']).optional()),
  /** S3 region (AWS SDK standard variable). @defaultValue us-east-1 */
  AWS_REGION: z.string().trim().min(1).default('us-east-1'),
  /** S3 credentials (AWS SDK standard variables); unset: the SDK's default provider chain. */
  AWS_ACCESS_KEY_ID: optionalText,
  AWS_SECRET_ACCESS_KEY: optionalText,
  /** Local directory used as the lake when S3_BUCKET is unset. @defaultValue ./lake */
  LAKE_DIR: z.string().trim().min(1).default('./lake'),
  /** Most records (lines) in one data object. @defaultValue 100 */
  BATCH_MAX_RECORDS: intFrom(1, 100_000).default(100),
  /** Longest a staged record waits before a partial object is written, ms. @defaultValue 5000 */
  BATCH_MAX_WAIT_MS: intFrom(10, 3_600_000).default(5_000),
  /** Jobs one worker process runs at once, per queue. @defaultValue 16 */
  WORKER_CONCURRENCY: intFrom(1, 1_000).default(16),
  /** Discover jobs wait while the details queue holds more jobs than this. @defaultValue 5000 */
  DETAILS_QUEUE_MAX_DEPTH: intFrom(100, 1_000_000).default(5_000),
  /** Attempts per job before it is dead-lettered (failed). @defaultValue 8 */
  JOB_ATTEMPTS: intFrom(1, 100).default(8),
  /** First retry delay; doubles each attempt, with jitter, ms. @defaultValue 1000 */
  JOB_BACKOFF_MS: intFrom(1, 600_000).default(1_000),
  /**
   * Share of a run's titles (and pages) that may fail for good before the run ends as failed
   * rather than completed, 0..1. @defaultValue 0.01
   */
  RUN_FAILURE_THRESHOLD: z
    .string()
    .trim()
    .regex(/^(0(\.\d+)?|1(\.0+)?)$/, 'expected a fraction from 0 to 1, e.g. 0.01')
    .transform(Number)
    .default(0.01),
  /** pino level. @defaultValue info */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Dashboard bind address. @defaultValue 127.0.0.1 */
  DASHBOARD_HOST: z.string().trim().min(1).default('127.0.0.1'),
  /** Dashboard port. @defaultValue 3000 */
  DASHBOARD_PORT: intFrom(0, 65_535).default(3000),
  /** Dashboard without retry, remove, promote or clean actions. @defaultValue false */
  DASHBOARD_READ_ONLY: bool.default(false),
  /** Dashboard HTTP basic auth user; with DASHBOARD_PASSWORD turns auth on. */
  DASHBOARD_USER: optionalText,
  /** Dashboard HTTP basic auth password. Secret. */
  DASHBOARD_PASSWORD: optionalText,
  /**
   * Shared secret of the S3 event webhook (`POST /webhooks/s3`, `Authorization: Bearer <secret>`)
   * that `sync --watch` listens to; unset: the webhook is off. Secret.
   */
  SYNC_WEBHOOK_SECRET: optionalText.pipe(
    z.string().min(16, 'expected at least 16 characters (e.g. openssl rand -hex 32)').optional(),
  ),
});

/** Names of every environment variable the fleet reads. */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(envSchema.shape);

/** Variables whose values are never printed, logged or stored. */
export const SECRET_VARIABLES = [
  'TMDB_ACCESS_TOKEN',
  'TMDB_API_KEY',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_ACCESS_KEY_ID',
  'DASHBOARD_PASSWORD',
  'SYNC_WEBHOOK_SECRET',
] as const;

/** How the fleet authenticates to TMDB (API v3 docs, "Authentication"). */
export type TmdbCredential = { kind: 'bearer'; token: string } | { kind: 'api_key'; key: string };

/** Endpoint, region, addressing style and credentials of an S3 client. */
export interface S3Connection {
  endpoint: string | undefined;
  region: string;
  forcePathStyle: boolean;
  credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
}

/** Validated configuration; see README "Configuration" for every field. */
export interface Config {
  redis: { url: string; prefix: string };
  tmdb: {
    baseUrl: string;
    credential: TmdbCredential | undefined;
    rateLimitRps: number;
    language: string | undefined;
    timeoutMs: number;
  };
  lake:
    | {
        kind: 's3';
        bucket: string;
        prefix: string;
        endpoint: string | undefined;
        region: string;
        forcePathStyle: boolean;
        credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
      }
    | { kind: 'local'; dir: string; prefix: string };
  /** How to reach S3 for `sync` (its own s3:// buckets), whether or not the lake is on S3. */
  s3: S3Connection;
  /** `sync --watch`: the S3 event webhook's shared secret; undefined turns the webhook off. */
  sync: { webhookSecret: string | undefined };
  batch: { maxRecords: number; maxWaitMs: number };
  jobs: { concurrency: number; detailsMaxDepth: number; attempts: number; backoffMs: number };
  /** Share of titles or pages that may fail before a run ends as failed, 0..1. */
  runFailureThreshold: number;
  logLevel: string;
  dashboard: {
    host: string;
    port: number;
    readOnly: boolean;
    auth: { user: string; password: string } | undefined;
  };
}

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
  if (problems.length > 0 || !e) {
    throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const s3: S3Connection = {
    endpoint: e.AWS_ENDPOINT_URL_S3,
    region: e.AWS_REGION,
    forcePathStyle: e.S3_FORCE_PATH_STYLE,
    credentials:
      e.AWS_ACCESS_KEY_ID && e.AWS_SECRET_ACCESS_KEY
        ? { accessKeyId: e.AWS_ACCESS_KEY_ID, secretAccessKey: e.AWS_SECRET_ACCESS_KEY }
        : undefined,
  };
  const credential: TmdbCredential | undefined = e.TMDB_ACCESS_TOKEN
    ? { kind: 'bearer', token: e.TMDB_ACCESS_TOKEN }
    : e.TMDB_API_KEY
      ? { kind: 'api_key', key: e.TMDB_API_KEY }
      : undefined;
  return {
    redis: { url: e.REDIS_URL, prefix: e.REDIS_PREFIX },
    tmdb: {
      baseUrl: e.TMDB_API_BASE_URL.replace(/\/+$/, ''),
      credential,
      rateLimitRps: e.TMDB_RATE_LIMIT_RPS,
      language: e.TMDB_LANGUAGE,
      timeoutMs: e.TMDB_TIMEOUT_MS,
    },
    lake: e.S3_BUCKET
      ? { kind: 's3', bucket: e.S3_BUCKET, prefix: e.S3_PREFIX, ...s3 }
      : { kind: 'local', dir: e.LAKE_DIR, prefix: e.S3_PREFIX },
    s3,
    sync: { webhookSecret: e.SYNC_WEBHOOK_SECRET },
    batch: { maxRecords: e.BATCH_MAX_RECORDS, maxWaitMs: e.BATCH_MAX_WAIT_MS },
    jobs: {
      concurrency: e.WORKER_CONCURRENCY,
      detailsMaxDepth: e.DETAILS_QUEUE_MAX_DEPTH,
      attempts: e.JOB_ATTEMPTS,
      backoffMs: e.JOB_BACKOFF_MS,
    },
    runFailureThreshold: e.RUN_FAILURE_THRESHOLD,
    logLevel: e.LOG_LEVEL,
    dashboard: {
      host: e.DASHBOARD_HOST,
      port: e.DASHBOARD_PORT,
      readOnly: e.DASHBOARD_READ_ONLY,
      auth:
        e.DASHBOARD_USER && e.DASHBOARD_PASSWORD
          ? { user: e.DASHBOARD_USER, password: e.DASHBOARD_PASSWORD }
          : undefined,
    },
  };
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
