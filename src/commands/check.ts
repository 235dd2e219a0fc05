/**
 * `tmdb-fleet check [--json]`: looks before you leap. One line per dependency of the fleet,
 * `ok …` or `fail …` with the fix (naming the variable to change):
 *
 * - config: where each part points, every secret masked (`TMDB_ACCESS_TOKEN=****(set)`);
 * - redis: reachable (REDIS_URL), its version, and `maxmemory-policy noeviction` (BullMQ needs it);
 * - lake: the bucket answers HeadBucket (S3Store.check → checkBucket, S3_BUCKET) or LAKE_DIR is
 *   a writable directory; nothing is written;
 * - tmdb: the credential works (TmdbClient.checkCredential: `GET /configuration`);
 * - files: TMDB_FILES_BASE_URL publishes the newest movie ID export (HEAD, today's or yesterday's).
 *
 * The checks run at once and independently (no Redis is needed to check TMDB). Exit 0 when all
 * are ok, 1 when any fails, 2 when the configuration itself is invalid (nothing is checked).
 * `--json`: one object `{"ok":…,"checks":[{"name":…,"ok":…,"detail":…}]}` on stdout.
 */
import { Command } from 'commander';
import type { GetConfig } from './private-redis.js';
import { requireTmdbCredential, type Config, type SECRET_VARIABLES } from '../config.js';
import { TmdbTransientError } from '../errors.js';
import { openStore } from '../lake/store.js';
import { scrubSecrets, secretValues } from '../log.js';
import { RedisWatch } from '../redis/availability.js';
import { connectRedis } from '../redis/connection.js';
import { REQUIRED_EVICTION_POLICY, redisServerInfo } from '../redis/server-info.js';
import { TmdbClient } from '../tmdb/client.js';
import { findNewestExport, newestExportDates } from '../tmdb/export-file.js';
import { SINGLE_REQUEST_GATE } from '../tmdb/limiter.js';
import { EXIT } from './exit-codes.js';

/** What is checked, in the order lines are printed. */
export const CHECKS = ['config', 'redis', 'lake', 'tmdb', 'files'] as const;

/** The outcome of one check: `detail` says what was found, or the fix. */
export interface CheckResult {
  name: (typeof CHECKS)[number];
  ok: boolean;
  detail: string;
}

/** What a masked secret looks like. */
const MASK = '****';

/** A URL with its password (if any) and its query masked (an `api_key=` there is a secret). */
function maskedUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = MASK;
    if (u.search) u.search = `?${MASK}`;
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(unparsable)';
  }
}

/** Where each part of the fleet points, and which secrets are set (never their values). */
export function configDetail(config: Config): string {
  const lake: [string, string][] = config.lake.kind === 's3' ? [['S3_BUCKET', config.lake.bucket]] : [['LAKE_DIR', config.lake.dir]];
  const shown: [string, string | undefined][] = [
    ['REDIS_URL', maskedUrl(config.redis.url)],
    ['REDIS_PREFIX', config.redis.prefix],
    ['TMDB_API_BASE_URL', maskedUrl(config.tmdb.baseUrl)],
    ['TMDB_FILES_BASE_URL', maskedUrl(config.tmdb.filesBaseUrl)],
    ...lake,
    ['S3_PREFIX', config.lake.prefix],
    ['AWS_ENDPOINT_URL_S3', config.s3.endpoint === undefined ? undefined : maskedUrl(config.s3.endpoint)],
  ];
  const secrets: Record<(typeof SECRET_VARIABLES)[number], boolean> = {
    TMDB_ACCESS_TOKEN: config.tmdb.credential?.kind === 'bearer',
    TMDB_API_KEY: config.tmdb.credential?.kind === 'api_key',
    AWS_ACCESS_KEY_ID: config.s3.credentials !== undefined,
    AWS_SECRET_ACCESS_KEY: config.s3.credentials !== undefined,
    DASHBOARD_PASSWORD: config.dashboard.auth !== undefined,
    SYNC_WEBHOOK_SECRET: config.sync.webhookSecret !== undefined,
  };
  return [
    ...shown.filter((entry): entry is [string, string] => entry[1] !== undefined).map(([k, v]) => `${k}=${v}`),
    ...Object.entries(secrets).map(([k, set]) => `${k}=${MASK}(${set ? 'set' : 'unset'})`),
  ].join(' ');
}

/** Redis answers, and evicts nothing. */
async function checkRedis(config: Config): Promise<string> {
  const redis = connectRedis(config, 'client');
  redis.on('error', () => undefined); // the watch tells it
  const watch = new RedisWatch(redis, { url: config.redis.url, waitMs: 0, failFast: true, report: () => undefined });
  try {
    const info = await watch.guard(redisServerInfo(redis));
    const at = `${info.version} at ${watch.endpoint} (REDIS_URL)`;
    if (info.maxmemoryPolicy !== REQUIRED_EVICTION_POLICY) {
      throw new Error(
        `${at} has maxmemory-policy ${info.maxmemoryPolicy}: BullMQ needs ${REQUIRED_EVICTION_POLICY}; set maxmemory-policy ${REQUIRED_EVICTION_POLICY} in its configuration (or CONFIG SET maxmemory-policy ${REQUIRED_EVICTION_POLICY})`,
      );
    }
    return `${at} answers, maxmemory-policy ${info.maxmemoryPolicy}`;
  } finally {
    watch.dispose();
    redis.disconnect();
  }
}

/** The lake's bucket answers HeadBucket, or its directory is writable. */
async function checkLake(config: Config): Promise<string> {
  const store = openStore(config);
  await store.check();
  return config.lake.kind === 's3'
    ? `${store.location} (S3_BUCKET) answers HeadBucket with these credentials`
    : `${store.location} (LAKE_DIR) is a writable directory (S3_BUCKET is unset)`;
}

/** TMDB accepts the credential: one `GET /configuration`, outside the fleet-wide limiter. */
async function checkTmdb(config: Config): Promise<string> {
  const credential = requireTmdbCredential(config);
  const variable = credential.kind === 'bearer' ? 'TMDB_ACCESS_TOKEN' : 'TMDB_API_KEY';
  const client = new TmdbClient({
    baseUrl: config.tmdb.baseUrl,
    credential,
    limiter: SINGLE_REQUEST_GATE,
    language: config.tmdb.language,
    timeoutMs: config.tmdb.timeoutMs,
    max429: 3,
  });
  try {
    await client.checkCredential();
  } catch (err) {
    if (!(err instanceof TmdbTransientError)) throw err;
    throw new Error(`${err.message}; check TMDB_API_BASE_URL (${config.tmdb.baseUrl}) and that TMDB can be reached`, { cause: err });
  } finally {
    await client.close();
  }
  return `${config.tmdb.baseUrl} (TMDB_API_BASE_URL) accepts the credential in ${variable} (GET /configuration)`;
}

/** The files host publishes the newest movie export. */
async function checkFiles(config: Config, now: Date): Promise<string> {
  const base = config.tmdb.filesBaseUrl;
  const newest = await findNewestExport(base, 'movie', config.tmdb.timeoutMs, now);
  if (!newest) {
    throw new Error(`${base} (TMDB_FILES_BASE_URL) has no movie export for ${newestExportDates(now).join(' or ')} under /p/exports/: check TMDB_FILES_BASE_URL`);
  }
  return `${base} (TMDB_FILES_BASE_URL) publishes ${newest.file}`;
}

/** One line of an error: a configuration error's own lines joined, without its heading. */
function oneLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/^invalid configuration:\s*/, '').split('\n').map((l) => l.trim()).filter(Boolean).join('; ');
}

/** `text` with every secret value replaced. */
function withoutValues(text: string, secrets: readonly string[]): string {
  return secrets.reduce((out, secret) => out.split(secret).join('[REDACTED]'), text);
}

/**
 * Runs every check against `config` at once.
 * @returns the results in {@link CHECKS} order, every detail scrubbed of the configuration's secrets.
 */
export async function runChecks(config: Config, now = new Date()): Promise<CheckResult[]> {
  const secrets = secretValues(config);
  const probe = async (name: CheckResult['name'], run: () => Promise<string>): Promise<CheckResult> => {
    try {
      const detail = await run();
      // The config line names TMDB_API_KEY=****: scrubbing `api_key=` values would hide the name.
      return { name, ok: true, detail: name === 'config' ? withoutValues(detail, secrets) : scrubSecrets(detail, secrets) };
    } catch (err) {
      return { name, ok: false, detail: scrubSecrets(oneLine(err), secrets) };
    }
  };
  return Promise.all([
    probe('config', async () => configDetail(config)),
    probe('redis', () => checkRedis(config)),
    probe('lake', () => checkLake(config)),
    probe('tmdb', () => checkTmdb(config)),
    probe('files', () => checkFiles(config, now)),
  ]);
}

/** The `check` command. */
export function checkCommand(getConfig: GetConfig): Command {
  return new Command('check')
    .description('check the configuration, Redis, the lake, the TMDB credential and the export files host; exit 0 all ok, 1 any failed, 2 bad configuration')
    .option('--json', 'one JSON object {"ok":…,"checks":[{"name":…,"ok":…,"detail":…}]} on stdout')
    .action(async (opts: { json?: boolean }) => {
      const config = await getConfig(); // a ConfigError exits 2 (program.ts)
      const results = await runChecks(config);
      const ok = results.every((r) => r.ok);
      if (opts.json) process.stdout.write(`${JSON.stringify({ ok, checks: results })}\n`);
      else for (const r of results) process.stdout.write(`${(r.ok ? 'ok' : 'fail').padEnd(4)} ${r.name.padEnd(6)} ${r.detail}\n`);
      process.exitCode = ok ? EXIT.ok : EXIT.failed;
    });
}
