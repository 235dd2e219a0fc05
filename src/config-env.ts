/**
 * The environment variables the fleet reads: one zod schema with each variable's parser,
 * default and documentation (README "Configuration" lists the same). Read by config.ts only.
 */
import { z } from 'zod';
import { parseFaultPoints } from './fault-points.js';

/** A whole number in [min, max]; `tooBig` says why above `max`, when that needs saying. */
const intFrom = (min: number, max: number, tooBig?: string) => {
  const expected = `expected a whole number from ${min} to ${max}`;
  return z
    .string()
    .trim()
    .regex(/^\d+$/, expected)
    .transform(Number)
    .pipe(z.number().int().min(min, expected).max(max, tooBig ?? expected));
};

/** The largest BATCH_MAX_RECORDS accepted. */
export const MAX_BATCH_RECORDS = 2_000;

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
export const envSchema = z.object({
  /** Redis for queues, run state and the shared rate limit. @defaultValue redis://127.0.0.1:6379 */
  REDIS_URL: url(['redis:', 'rediss:']).default('redis://127.0.0.1:6379'),
  /** Key prefix of every queue and run key; a `{hash tag}` keeps Redis Cluster happy. */
  REDIS_PREFIX: z
    .string()
    .trim()
    .regex(/^\{[A-Za-z0-9_.-]+\}$/, 'expected a hash tag such as {tmdb-fleet}')
    .default('{tmdb-fleet}'),
  /** How long a CLI command waits for a lost Redis to come back, ms (0: not at all); workers wait for ever. */
  REDIS_WAIT_MS: intFrom(0, 86_400_000).default(60_000),
  /**
   * The fleet's state directory on this machine: with REDIS_URL unset and nothing on
   * 127.0.0.1:6379, the private Redis's socket, AOF and log live here (src/redis/private-server.ts).
   * @defaultValue ./.tmdb-fleet
   */
  TMDB_FLEET_HOME: z.string().trim().min(1).default('./.tmdb-fleet'),
  /** TMDB API v3 base URL. @defaultValue https://api.themoviedb.org/3 */
  TMDB_API_BASE_URL: url(['http:', 'https:']).default('https://api.themoviedb.org/3'),
  /**
   * Base URL of TMDB's daily ID exports (`<base>/p/exports/movie_ids_MM_DD_YYYY.json.gz`); no
   * credential is sent. @defaultValue https://files.tmdb.org
   */
  TMDB_FILES_BASE_URL: url(['http:', 'https:']).default('https://files.tmdb.org'),
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
  /** Idle timeout of one S3 request (no byte sent or received), ms; the SDK then retries. @defaultValue 60000 */
  S3_TIMEOUT_MS: intFrom(100, 600_000).default(60_000),
  /** S3 endpoint (AWS SDK standard variable), e.g. http://minio:9000. */
  AWS_ENDPOINT_URL_S3: optionalText.pipe(url(['http:', 'https:']).optional()),
  /** S3 region (AWS SDK standard variable). @defaultValue us-east-1 */
  AWS_REGION: z.string().trim().min(1).default('us-east-1'),
  /** S3 credentials (AWS SDK standard variables); unset: the SDK's default provider chain. */
  AWS_ACCESS_KEY_ID: optionalText,
  AWS_SECRET_ACCESS_KEY: optionalText,
  /** Local directory used as the lake when S3_BUCKET is unset. @defaultValue ./lake */
  LAKE_DIR: z.string().trim().min(1).default('./lake'),
  /**
   * A backfill expecting more titles than this (or one without --from/--to) asks for
   * confirmation on a terminal and needs --yes otherwise. @defaultValue 200000
   */
  BACKFILL_CONFIRM_TITLES: intFrom(0, 100_000_000).default(200_000),
  /**
   * Most records (lines) in one data object, at most {@link MAX_BATCH_RECORDS} (one Redis script
   * call builds a batch: 2,000 documents of 2–7 KB are 4–14 MB). @defaultValue 100
   */
  BATCH_MAX_RECORDS: intFrom(
    1,
    MAX_BATCH_RECORDS,
    `expected at most ${MAX_BATCH_RECORDS} records per object: one Redis script call builds a whole batch, so larger batches block Redis and hold hundreds of MB`,
  ).default(100),
  /** Longest a staged record waits before a partial object is written, ms. @defaultValue 5000 */
  BATCH_MAX_WAIT_MS: intFrom(10, 3_600_000).default(5_000),
  /**
   * Most documents of one run staged in Redis and not yet in a stored object (≥
   * BATCH_MAX_RECORDS); while a run has more, its details jobs wait (delayed, not failed), so
   * Redis memory stays bounded however far writes lag. @defaultValue 5000
   */
  STAGING_MAX_RECORDS: intFrom(1, 1_000_000).default(5_000),
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
  /**
   * Tests only: named fault points that SIGKILL the process (`name[@pass]`, comma-separated;
   * see src/fault-points.ts). Unset in production.
   */
  FAULT_POINTS: optionalText.superRefine((v, ctx) => {
    try {
      parseFaultPoints(v);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  }),
  /** Port of a worker process's own Prometheus `/metrics` (0: any free port); unset: off. */
  WORKER_METRICS_PORT: optionalText.pipe(intFrom(0, 65_535).optional()),
  /** Bind address of a worker's `/metrics` (0.0.0.0 in a container). @defaultValue 127.0.0.1 */
  WORKER_METRICS_HOST: z.string().trim().min(1).default('127.0.0.1'),
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
  /**
   * How long a `sync --watch` run outlives its process (SIGKILL, lost host) before its watch is
   * closed and its run completed, ms; the process renews it every third. @defaultValue 30000
   */
  SYNC_WATCH_LEASE_MS: intFrom(1_000, 3_600_000).default(30_000),
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

