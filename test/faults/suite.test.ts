/**
 * The fault suite (`npm run test:faults`, also part of `npm test`): each scenario runs a real
 * backfill through worker processes while faults are injected — workers SIGKILLed at random
 * moments, Redis killed and restarted from its AOF, TMDB answering 5xx, garbage, hanging or
 * dropping connections, S3 (s3rver behind a fault proxy) answering SlowDown, 500, resets or
 * nothing at all — then reads the raw zone back object by object. One line per scenario: faults
 * injected, titles expected, landed, lost, duplicated. Every scenario must end with 0 lost and
 * 0 duplicated.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { startS3Server, s3Env, type S3Server } from '../support/s3-server.js';
import { startS3FaultProxy, type S3FaultProxy } from '../support/s3-fault-proxy.js';
import { startFakeTmdb, type FakeTmdb } from '../support/fake-tmdb.js';
import { lastJsonLine, runCli, startWorker, type WorkerProcess } from '../support/fleet-process.js';
import { readRun } from '../support/lake-reader.js';
import { RunStore, type RunSummary } from '../../src/runs.js';
import { loadConfig } from '../../src/config.js';
import { closeQueues, openQueues } from '../../src/queues.js';

const BUCKET = 'fault-suite';
const TITLES = 2_000;
const FROM = '2018-01-01';
const TO = '2018-12-31';

let redis: RedisServer;
let s3: S3Server;
let proxy: S3FaultProxy;
let tmdb: FakeTmdb;
let workers: WorkerProcess[] = [];
const rows: string[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  redis = await startRedisServer({ appendonly: true, appendfsync: 'always' });
  s3 = await startS3Server([BUCKET]);
  proxy = await startS3FaultProxy(s3.endpoint, { seed: 9 });
  tmdb = await startFakeTmdb({ movie: { count: TITLES, from: FROM, to: TO, seed: 13 }, seed: 17 });
});

afterEach(async () => {
  await Promise.all(workers.map((w) => w.kill()));
  workers = [];
  tmdb.configure({ errorRate: 0, garbageRate: 0, stallRate: 0, dropRate: 0, latencyMs: 0, rateLimit: undefined });
  proxy.configure({ slowDownRate: 0, errorRate: 0, resetRate: 0, outage: false });
});

afterAll(async () => {
  const table = [
    '| scenario | faults injected | titles expected | landed | lost | duplicated |',
    '|---|---|---:|---:|---:|---:|',
    ...rows,
  ].join('\n');
  process.stdout.write(`\nFault suite\n${table}\n`);
  await tmdb?.close();
  await proxy?.close();
  await s3?.close();
  await redis?.stop();
});

/** Fleet environment writing through the fault proxy. */
function fleetEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    REDIS_URL: redis.url,
    REDIS_PREFIX: `{fs-${randomUUID().slice(0, 8)}}`,
    TMDB_API_BASE_URL: tmdb.url,
    TMDB_ACCESS_TOKEN: 'test-token',
    TMDB_RATE_LIMIT_RPS: '400',
    TMDB_TIMEOUT_MS: '1000',
    BATCH_MAX_RECORDS: '40',
    BATCH_MAX_WAIT_MS: '200',
    JOB_ATTEMPTS: '12',
    JOB_BACKOFF_MS: '50',
    LOG_LEVEL: 'error',
    ...s3Env(s3, BUCKET),
    AWS_ENDPOINT_URL_S3: proxy.endpoint,
    ...extra,
  };
}

async function startRun(env: Record<string, string>): Promise<string> {
  const res = await runCli(['backfill', 'movie', '--from', FROM, '--to', TO, '--json'], env);
  expect(res.code, res.stderr).toBe(0);
  return lastJsonLine<{ runId: string }>(res.stdout).runId;
}

/** Polls the run (through Redis outages) until it ends; `during` runs every poll. */
async function followRun(
  env: Record<string, string>,
  runId: string,
  during: (s: RunSummary) => Promise<void> = async () => undefined,
): Promise<RunSummary> {
  const client = new Redis(env.REDIS_URL ?? '', { maxRetriesPerRequest: null });
  const runs = new RunStore(client, env.REDIS_PREFIX ?? '');
  try {
    const deadline = Date.now() + 180_000;
    for (;;) {
      const s = await runs.summary(runId);
      if (s.state === 'completed' || s.state === 'failed') return s;
      if (Date.now() > deadline) throw new Error(`run ${runId} did not end: ${JSON.stringify(s)}`);
      await during(s);
      await sleep(500);
    }
  } finally {
    client.disconnect();
  }
}

/** Reads the raw zone back (from s3rver directly) and records the scenario's line. */
async function verify(scenario: string, faults: string, env: Record<string, string>, runId: string): Promise<void> {
  const direct = { ...env, AWS_ENDPOINT_URL_S3: s3.endpoint };
  const lake = await readRun(direct, 'movie', runId);
  const expected = tmdb.titles('movie').map((t) => t.id);
  const lost = expected.filter((id) => !lake.idCounts.has(id)).length;
  const duplicated = [...lake.idCounts.values()].filter((n) => n > 1).length;
  rows.push(`| ${scenario} | ${faults} | ${expected.length} | ${lake.idCounts.size} | ${lost} | ${duplicated} |`);
  expect({ lost, duplicated, landed: lake.idCounts.size }).toEqual({ lost: 0, duplicated: 0, landed: expected.length });
  expect(lake.manifest.objects.map((o) => o.key).sort()).toEqual(lake.keys);
  expect(lake.manifest.objects.reduce((n, o) => n + o.records, 0)).toBe(expected.length);
}

/** Kills a random worker and starts a new one in its place. */
async function killOne(env: Record<string, string>): Promise<void> {
  const victim = Math.floor(Math.random() * workers.length);
  await workers[victim]?.kill();
  workers[victim] = startWorker(env);
}

it('workers SIGKILLed at random moments and replaced', async () => {
  const env = fleetEnv();
  workers = [startWorker(env), startWorker(env)];
  const runId = await startRun(env);
  let kills = 0;
  const s = await followRun(env, runId, async (summary) => {
    if (kills < 6 && summary.state === 'running' && Math.random() < 0.6) {
      await killOne(env);
      kills++;
    }
  });
  expect(s.state, s.error).toBe('completed');
  expect(kills).toBeGreaterThanOrEqual(2);
  await verify('worker SIGKILL', `${kills} workers killed`, env, runId);
});

it('Redis killed mid-run and restarted from its AOF 30 s later', async () => {
  const env = fleetEnv();
  workers = [startWorker(env), startWorker(env)];
  const runId = await startRun(env);
  await sleep(1_500);
  redis.kill();
  await sleep(30_000);
  await redis.restart();
  const s = await followRun(env, runId);
  expect(s.state, s.error).toBe('completed');
  for (const w of workers) expect(w.child.exitCode, w.output()).toBeNull();
  await verify('Redis restart', 'Redis down 30 s (SIGKILL, AOF fsync always)', env, runId);
});

it('TMDB answering 5xx, garbage bodies, dropped and hanging connections', async () => {
  tmdb.configure({ errorRate: 0.05, garbageRate: 0.02, dropRate: 0.02, stallRate: 0.01, latencyMs: [0, 20] });
  tmdb.resetStats();
  const env = fleetEnv();
  workers = [startWorker(env), startWorker(env)];
  const runId = await startRun(env);
  const s = await followRun(env, runId);
  expect(s.state, s.error).toBe('completed');
  const b = tmdb.stats().byStatus;
  const fiveXx = (b['500'] ?? 0) + (b['502'] ?? 0) + (b['503'] ?? 0);
  expect(fiveXx * (b.garbage ?? 0) * (b.dropped ?? 0) * (b.stalled ?? 0)).toBeGreaterThan(0);
  await verify(
    'TMDB faults',
    `${fiveXx} 5xx, ${b.garbage} garbage bodies, ${b.dropped} dropped, ${b.stalled} hanging (1 s timeout)`,
    env,
    runId,
  );
});

it('S3 answering 503 SlowDown, 500 and resetting connections', async () => {
  proxy.configure({ slowDownRate: 0.1, errorRate: 0.05, resetRate: 0.05 });
  const before = proxy.injected();
  const env = fleetEnv();
  workers = [startWorker(env), startWorker(env)];
  const runId = await startRun(env);
  const s = await followRun(env, runId);
  expect(s.state, s.error).toBe('completed');
  const after = proxy.injected();
  const n = (k: 'slowDown' | 'error' | 'reset') => after[k] - before[k];
  expect(n('slowDown') + n('error') + n('reset')).toBeGreaterThan(0);
  await verify('S3 faults', `${n('slowDown')} SlowDown, ${n('error')} 500, ${n('reset')} resets`, env, runId);
});

it('S3 down longer than the retry budget: documents stay staged, resume finishes the run', async () => {
  const env = fleetEnv({ JOB_ATTEMPTS: '2' });
  workers = [startWorker(env), startWorker(env)];
  const runId = await startRun(env); // its pre-flight HeadBucket passes: the outage starts now
  const before = proxy.injected().outage;
  proxy.configure({ outage: true });
  const config = loadConfig(env);
  const client = new Redis(redis.url, { maxRetriesPerRequest: null });
  const queues = openQueues(config, client);
  const runs = new RunStore(client, config.redis.prefix);
  try {
    // Every title fetched; the final write job gave up (a dead letter); nothing is lost.
    const deadline = Date.now() + 120_000;
    while ((await (await queues.write.getJob(`final.${runId}`))?.getState()) !== 'failed') {
      if (Date.now() > deadline) throw new Error(`final job never failed: ${JSON.stringify(await runs.summary(runId))}`);
      await sleep(500);
    }
    const s = await runs.summary(runId);
    expect(s).toMatchObject({ state: 'running', fetched: TITLES });
    expect(s.records).toBeLessThan(TITLES);
  } finally {
    await closeQueues(queues);
    client.disconnect();
  }
  const outages = proxy.injected().outage - before;
  proxy.configure({ outage: false });
  const resumed = await runCli(['backfill', '--resume', runId, '--wait', '--json'], env);
  expect(resumed.code, resumed.stderr).toBe(0);
  expect(lastJsonLine<{ state: string }>(resumed.stdout).state).toBe('completed');
  await verify('S3 outage + resume', `${outages} S3 requests refused, writes dead-lettered, then --resume`, env, runId);
});

it('everything at once: worker kills, TMDB faults and S3 faults', async () => {
  tmdb.configure({ errorRate: 0.03, garbageRate: 0.01, dropRate: 0.01, latencyMs: [0, 10] });
  proxy.configure({ slowDownRate: 0.05, errorRate: 0.03, resetRate: 0.03 });
  tmdb.resetStats();
  const before = proxy.injected();
  const env = fleetEnv();
  workers = [startWorker(env), startWorker(env), startWorker(env)];
  const runId = await startRun(env);
  let kills = 0;
  const s = await followRun(env, runId, async (summary) => {
    if (kills < 5 && summary.state === 'running' && Math.random() < 0.5) {
      await killOne(env);
      kills++;
    }
  });
  expect(s.state, s.error).toBe('completed');
  const b = tmdb.stats().byStatus;
  const after = proxy.injected();
  const tmdbFaults = (b['500'] ?? 0) + (b['502'] ?? 0) + (b['503'] ?? 0) + (b.garbage ?? 0) + (b.dropped ?? 0);
  const s3Faults = after.slowDown - before.slowDown + after.error - before.error + after.reset - before.reset;
  await verify('combined', `${kills} kills, ${tmdbFaults} TMDB faults, ${s3Faults} S3 faults`, env, runId);
});
