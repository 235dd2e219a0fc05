/**
 * The fault suite (`npm run test:faults`, also part of `npm test`): each scenario runs a real
 * backfill through worker processes while faults are injected — workers SIGKILLed at random
 * moments, Redis killed and restarted from its AOF, TMDB answering 5xx, garbage, hanging or
 * dropping connections, S3 (s3rver behind a fault proxy) answering SlowDown, 500, resets or
 * nothing at all — then reads the raw zone back object by object. One line per scenario: faults
 * injected, titles expected, landed, lost, duplicated. Every scenario must end with 0 lost and
 * 0 duplicated, and must prove its faults were injected (counters of the fake TMDB and the S3
 * fault proxy, kills of live workers).
 *
 * Kill moments and victims come from a seeded PRNG: FAULT_SUITE_SEED=<n> replays them (the suite
 * prints the seed it used; unset, it draws one).
 */
import { randomInt, randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { startS3Server, s3Env, type S3Server } from '../support/s3-server.js';
import { startS3FaultProxy, type S3FaultProxy } from '../support/s3-fault-proxy.js';
import { startFakeTmdb, type FakeTmdb } from '../../src/sandbox/server.js';
import { lastJsonLine, runCli, startWorker, type WorkerProcess } from '../support/fleet-process.js';
import { readRun } from '../support/lake-reader.js';
import { until } from '../support/until.js';
import { openRunStore } from '../../src/runs/store.js';
import type { RunSummary } from '../../src/runs/types.js';
import { loadConfig } from '../../src/config.js';
import { closeQueues, openQueues } from '../../src/queues.js';
import { mulberry32 } from '../../src/sandbox/prng.js';

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

/** Seed of the kill plans: FAULT_SUITE_SEED, or a fresh one (printed, so a failure replays). */
const SEED = (() => {
  const given = process.env.FAULT_SUITE_SEED;
  if (given === undefined || given === '') return randomInt(2 ** 31);
  if (!/^\d+$/.test(given)) throw new Error(`FAULT_SUITE_SEED="${given}": expected a whole number`);
  return Number(given);
})();
process.stdout.write(`fault suite: FAULT_SUITE_SEED=${SEED} (set it to replay the kill moments and victims)\n`);

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
  proxy.configure({ slowDownRate: 0, errorRate: 0, resetRate: 0, hangPuts: 0, outage: false });
});

afterAll(async () => {
  const table = [
    '| scenario | faults injected | titles expected | landed | lost | duplicated |',
    '|---|---|---:|---:|---:|---:|',
    ...rows,
  ].join('\n');
  process.stdout.write(`\nFault suite (FAULT_SUITE_SEED=${SEED})\n${table}\n`);
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
  const runs = openRunStore(client, env.REDIS_PREFIX ?? '');
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
  // The run audits itself clean, and `verify` re-reading it from the lake agrees.
  const checked = await runCli(['verify', runId, '--json'], direct);
  expect(checked.code, checked.stdout + checked.stderr).toBe(0);
  expect(lastJsonLine<{ verdict: string }>(checked.stdout).verdict).toBe('clean');
}

/**
 * A plan of `count` worker kills for one scenario, drawn from the suite's seed and the
 * scenario's name: each kill happens at a random share of the run's titles done (between 2 %
 * and 60 %, so the run is still going) and hits a random worker, which is replaced at once.
 * {@link KillPlan.during} is given to {@link followRun}; `performed` counts kills of workers
 * that were alive.
 */
interface KillPlan {
  during: (s: RunSummary) => Promise<void>;
  readonly performed: number;
  readonly planned: number;
}

function killPlan(scenario: string, count: number, env: Record<string, string>): KillPlan {
  const rand = mulberry32(SEED ^ [...scenario].reduce((h, c) => Math.imul(h, 31) + c.charCodeAt(0), 7));
  const moments = Array.from({ length: count }, () => 0.02 + rand() * 0.58).sort((a, b) => a - b);
  let performed = 0;
  return {
    planned: count,
    get performed() {
      return performed;
    },
    async during(s) {
      const done = s.fetched + s.notFound + s.failed;
      const next = moments[0];
      // One kill a poll (500 ms): moments crossed together are spread over the next polls.
      if (next === undefined || s.state !== 'running' || done < next * TITLES) return;
      moments.shift();
      const victim = Math.floor(rand() * workers.length);
      const w = workers[victim];
      if (w && w.child.exitCode === null && w.child.signalCode === null) performed++;
      await w?.kill();
      workers[victim] = startWorker(env);
    },
  };
}

it('workers SIGKILLed at random moments and replaced', async () => {
  const env = fleetEnv();
  workers = [startWorker(env), startWorker(env)];
  const kills = killPlan('worker SIGKILL', 6, env);
  const runId = await startRun(env);
  const s = await followRun(env, runId, kills.during);
  expect(s.state, s.error).toBe('completed');
  expect(kills.performed, `FAULT_SUITE_SEED=${SEED}`).toBe(kills.planned);
  await verify('worker SIGKILL', `${kills.performed} workers killed`, env, runId);
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

/**
 * Redis forgets its last seconds (AOF everysec, a failover to a lagging replica): stopped and
 * restarted from a copy of its AOF taken 3 s earlier. Those seconds trickled (TMDB slowed), so
 * they wrote many small tail objects; after the rollback the same titles come back fast, in
 * full batches, under the same sequence numbers: a plain PUT would overwrite some of the
 * forgotten objects and leave the others as duplicates. Create-only keys and reconciling with
 * the lake land each title once.
 */
it('Redis rolled back to a copy of its AOF taken 3 s earlier: object keys are never reused', async () => {
  const env = fleetEnv({ TMDB_TIMEOUT_MS: '10000', LOG_LEVEL: 'warn' });
  workers = [startWorker(env), startWorker(env)];
  const runId = await startRun(env);
  const client = new Redis(redis.url, { maxRetriesPerRequest: null });
  client.on('error', () => undefined); // refused while Redis restarts
  const runs = openRunStore(client, env.REDIS_PREFIX ?? '');
  let copied: RunSummary;
  let lost: RunSummary;
  try {
    const deadline = Date.now() + 60_000;
    while ((await runs.summary(runId)).fetched < TITLES - 200) {
      if (Date.now() > deadline) throw new Error('the run did not reach its last 200 titles within 60 s');
      await sleep(50);
    }
    tmdb.configure({ latencyMs: [100, 1_500] });
    const snapshot = await redis.snapshot();
    copied = await runs.summary(runId);
    await sleep(3_000);
    lost = await runs.summary(runId);
    tmdb.configure({ latencyMs: 0 });
    await redis.restartFrom(snapshot);
    // What Redis acknowledged in those 3 s is gone: its object count went back.
    expect((await runs.summary(runId)).objects).toBeLessThan(lost.objects);
  } finally {
    client.disconnect();
  }
  expect(lost.objects - copied.objects).toBeGreaterThanOrEqual(5);
  const s = await followRun(env, runId);
  expect(s.state, s.error).toBe('completed');
  for (const w of workers) expect(w.child.exitCode, w.output()).toBeNull();
  const refused = s3.puts().filter((p) => p.status === 412 && p.path.includes(runId)).length;
  const reconciled = workers.filter((w) => w.output().includes('run reconciled with the lake')).length;
  await verify(
    'Redis rollback',
    `Redis restarted from a copy of its AOF taken 3 s earlier (${lost.objects - copied.objects} objects forgotten); ${refused} create-only PUTs refused, ${reconciled} processes reconciled`,
    env,
    runId,
  );
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

it('S3 answering 503 SlowDown, 500, resetting connections and never answering', async () => {
  // The first PUTs of the manifest are never answered: each is abandoned after S3_TIMEOUT_MS
  // and retried. Without that timeout the final job would wait for ever and the run never end.
  proxy.configure({ slowDownRate: 0.1, errorRate: 0.05, resetRate: 0.05, hangPuts: 2, hangPutPattern: /manifest\.json/ });
  const before = proxy.injected();
  const env = fleetEnv({ S3_TIMEOUT_MS: '1000' });
  workers = [startWorker(env), startWorker(env)];
  const runId = await startRun(env);
  const s = await followRun(env, runId);
  expect(s.state, s.error).toBe('completed');
  const after = proxy.injected();
  const n = (k: 'slowDown' | 'error' | 'reset' | 'hang') => after[k] - before[k];
  expect(n('slowDown') * n('error') * n('reset')).toBeGreaterThan(0);
  expect(n('hang')).toBe(2);
  await verify('S3 faults', `${n('slowDown')} SlowDown, ${n('error')} 500, ${n('reset')} resets, ${n('hang')} never answered`, env, runId);
});

it('S3 down longer than the retry budget: documents stay staged, resume finishes the run', async () => {
  const env = fleetEnv({ JOB_ATTEMPTS: '2' });
  const config = loadConfig(env);
  const client = new Redis(redis.url, { maxRetriesPerRequest: null });
  const queues = openQueues(config, client);
  const runs = openRunStore(client, config.redis.prefix);
  workers = [startWorker(env), startWorker(env)];
  // A worker still starting when the outage begins waits for S3 before it consumes anything.
  await until('both workers consuming', 30_000, async () => (await queues.details.getWorkersCount()) >= 2);
  const runId = await startRun(env); // its pre-flight HeadBucket passes: the outage starts now
  const before = proxy.injected().outage;
  proxy.configure({ outage: true });
  try {
    // Every title fetched; the final write job gave up (a dead letter); nothing is lost. The
    // deadline stays under the test's timeout, so a hang reports the run's summary.
    const deadline = Date.now() + 90_000;
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
  // Seed 8 restarts the proxy's fault sequence: none in its first 9 requests (the HeadBucket
  // pre-flights), then 500 at the 10th, a reset at the 18th, SlowDown at the 20th; a run writes
  // at least 50 objects, so every kind is injected into the write path.
  proxy.configure({ slowDownRate: 0.05, errorRate: 0.03, resetRate: 0.03, seed: 8 });
  tmdb.resetStats();
  const before = proxy.injected();
  const env = fleetEnv();
  workers = [startWorker(env), startWorker(env), startWorker(env)];
  const kills = killPlan('combined', 5, env);
  const runId = await startRun(env);
  const s = await followRun(env, runId, kills.during);
  expect(s.state, s.error).toBe('completed');
  const b = tmdb.stats().byStatus;
  const after = proxy.injected();
  const injected = {
    kills: kills.performed,
    tmdb5xx: (b['500'] ?? 0) + (b['502'] ?? 0) + (b['503'] ?? 0),
    tmdbGarbage: b.garbage ?? 0,
    tmdbDropped: b.dropped ?? 0,
    s3SlowDown: after.slowDown - before.slowDown,
    s3Error: after.error - before.error,
    s3Reset: after.reset - before.reset,
  };
  for (const [kind, n] of Object.entries(injected)) expect(n, `${kind} injected (FAULT_SUITE_SEED=${SEED})`).toBeGreaterThan(0);
  expect(kills.performed).toBe(kills.planned);
  const tmdbFaults = injected.tmdb5xx + injected.tmdbGarbage + injected.tmdbDropped;
  const s3Faults = injected.s3SlowDown + injected.s3Error + injected.s3Reset;
  await verify(
    'combined',
    `${kills.performed} kills, ${tmdbFaults} TMDB faults (${injected.tmdb5xx} 5xx, ${injected.tmdbGarbage} garbage, ${injected.tmdbDropped} dropped), ` +
      `${s3Faults} S3 faults (${injected.s3SlowDown} SlowDown, ${injected.s3Error} 500, ${injected.s3Reset} resets)`,
    env,
    runId,
  );
});
