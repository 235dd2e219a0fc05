/**
 * The end-to-end test harness most files share: a redis-server, a fake TMDB (and s3rver when
 * asked) started once per file, worker processes killed after each test, and the fleet
 * environment for a fresh run: its own Redis prefix and its own local lake directory (or bucket).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startFakeTmdb, type FakeTmdb, type FakeTmdbOptions } from '../../src/sandbox/server.js';
import { startWorker, type WorkerProcess } from './fleet-process.js';
import { startRedisServer, type RedisServer, type RedisServerOptions } from './redis-server.js';
import { s3Env, startS3Server, type S3Server } from './s3-server.js';

export interface HarnessOptions {
  tmdb?: FakeTmdbOptions;
  redis?: RedisServerOptions;
  /** Start s3rver with these buckets; the fleet writes to the first. Default: a local lake. */
  buckets?: string[];
}

export interface Harness {
  readonly redis: RedisServer;
  readonly tmdb: FakeTmdb;
  readonly s3: S3Server | undefined;
  /** Fleet environment for a new run (fresh prefix and lake), plus `extra`. */
  env(extra?: Record<string, string>): Record<string, string>;
  /** Starts `n` worker processes with `env`; they are SIGKILLed after the test. */
  startWorkers(env: Record<string, string>, n?: number): WorkerProcess[];
}

/** Registers the hooks of a harness in the calling test file and returns it. */
export function useFleetHarness(options: HarnessOptions = {}): Harness {
  let redis: RedisServer | undefined;
  let tmdb: FakeTmdb | undefined;
  let s3: S3Server | undefined;
  let workers: WorkerProcess[] = [];

  beforeAll(async () => {
    redis = await startRedisServer(options.redis);
    tmdb = await startFakeTmdb(options.tmdb);
    if (options.buckets) s3 = await startS3Server(options.buckets);
  });
  afterEach(async () => {
    await Promise.all(workers.map((w) => w.kill()));
    workers = [];
  });
  afterAll(async () => {
    await tmdb?.close();
    await s3?.close();
    await redis?.stop();
  });

  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`harness: ${what} is not started (use it inside a test)`);
    return value;
  };
  return {
    get redis() {
      return need(redis, 'redis');
    },
    get tmdb() {
      return need(tmdb, 'the fake TMDB');
    },
    get s3() {
      return s3;
    },
    env(extra = {}) {
      const lake = s3 && options.buckets?.[0]
        ? s3Env(s3, options.buckets[0])
        : { LAKE_DIR: mkdtempSync(path.join(tmpdir(), 'tmdb-fleet-lake-')) };
      return {
        REDIS_URL: need(redis, 'redis').url,
        REDIS_PREFIX: `{t-${randomUUID().slice(0, 8)}}`,
        TMDB_API_BASE_URL: need(tmdb, 'the fake TMDB').url,
        TMDB_ACCESS_TOKEN: 'test-token',
        TMDB_RATE_LIMIT_RPS: '500',
        BATCH_MAX_WAIT_MS: '200',
        LOG_LEVEL: 'warn',
        ...lake,
        ...extra,
      };
    },
    startWorkers(env, n = 1) {
      const started = Array.from({ length: n }, () => startWorker(env));
      workers.push(...started);
      return started;
    },
  };
}
