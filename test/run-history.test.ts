/**
 * `tmdb-fleet runs` as a user runs it (the built CLI, a real Redis, s3rver, worker processes):
 * runs newest first from Redis, and from their manifests once Redis no longer holds them; the
 * audit verdict of a manifest that has one; --kind, --state, --limit, --json; bad options exit 2.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { loadConfig } from '../src/config.js';
import { manifestKey } from '../src/lake/keys.js';
import { openStore } from '../src/lake/store.js';
import { allRunKeys, runIndexKey, runKeys } from '../src/runs/keys.js';
import { lastJsonLine, runCli } from './support/fleet-process.js';
import { useFleetHarness } from './support/harness.js';

const h = useFleetHarness({
  tmdb: {
    movie: { count: 150, from: '2020-01-01', to: '2020-12-31', seed: 11 },
    tv: { count: 60, from: '2020-01-01', to: '2020-12-31', seed: 12 },
  },
  buckets: ['history'],
});

interface Listed {
  runId: string;
  kind: string;
  source: string;
  state: string;
  records: number;
  verdict?: string;
  origin: string;
  progress: { done: number; total: number; unit: string };
}

describe('tmdb-fleet runs', () => {
  let env: Record<string, string>;
  const ids: Record<'expired' | 'indexOnly' | 'search' | 'running', string> = { expired: '', indexOnly: '', search: '', running: '' };
  const runs = async (...args: string[]) => {
    const res = await runCli(['runs', ...args], env, 30_000);
    expect(res.code, res.stderr).toBe(0);
    return res;
  };
  const listed = async (...args: string[]) => lastJsonLine<{ runs: Listed[]; warnings: string[] }>((await runs('--json', ...args)).stdout);

  beforeAll(async () => {
    env = h.env({ JOB_BACKOFF_MS: '20' });
    const workers = h.startWorkers(env);
    const finish = async (args: string[]) => {
      const res = await runCli([...args, '--wait', '--json'], env);
      expect(res.code, res.stderr).toBe(0);
      return lastJsonLine<{ runId: string }>(res.stdout).runId;
    };
    ids.expired = await finish(['backfill', 'movie', '--from', '2020-01-01', '--to', '2020-12-31']);
    ids.indexOnly = await finish(['backfill', 'tv', '--from', '2020-01-01', '--to', '2020-12-31']);
    await new Promise((r) => setTimeout(r, 1_100)); // run ids are stamped to the second
    ids.search = await finish(['search', 'movie', '--query', 'Bourne']);
    await Promise.all(workers.map((w) => w.kill()));
    // No worker: this one stays running.
    await new Promise((r) => setTimeout(r, 1_100));
    const started = await runCli(['backfill', 'movie', '--from', '2020-01-01', '--to', '2020-06-30'], env);
    expect(started.code, started.stderr).toBe(0);
    ids.running = started.stdout.trim();

    // Redis forgets the first run entirely (expired and trimmed from the index) and the second's
    // hash (expired, still indexed): both are now known from their manifests only.
    const config = loadConfig(env);
    const redis = new Redis(config.redis.url);
    await redis.del(...allRunKeys(runKeys(config.redis.prefix, ids.expired)));
    await redis.zrem(runIndexKey(config.redis.prefix), ids.expired);
    await redis.del(runKeys(config.redis.prefix, ids.indexOnly).run);
    redis.disconnect();
    // An audited manifest says its verdict.
    const store = openStore(config);
    const key = manifestKey(config.lake.prefix, ids.indexOnly);
    const manifest = JSON.parse((await store.get(key)).toString('utf8')) as Record<string, unknown>;
    await store.put(key, JSON.stringify({ ...manifest, audit: { verdict: 'partial' } }), 'application/json');
  }, 240_000);

  it('lists every run newest first, from Redis and from the lake, with counts, progress and verdicts', async () => {
    const { runs: all, warnings } = await listed();
    expect(warnings).toEqual([]);
    expect(all.map((r) => r.runId)).toEqual([ids.running, ids.search, ids.indexOnly, ids.expired]);
    const [running, search, tv, movie] = all;
    expect(running).toMatchObject({ kind: 'movie', source: 'discover', state: 'running', origin: 'redis', records: 0 });
    expect(running?.verdict).toBeUndefined();
    expect(search).toMatchObject({ kind: 'movie', source: 'search', state: 'completed', origin: 'redis' });
    expect(search?.progress.done).toBe(search?.progress.total);
    expect(tv).toMatchObject({ kind: 'tv', state: 'completed', origin: 'lake', records: 60, verdict: 'partial' });
    expect(movie).toMatchObject({ kind: 'movie', state: 'completed', origin: 'lake', records: 150 });
    expect(movie?.progress).toEqual({ done: 150, total: 150, unit: 'titles' });
  });

  it('filters by kind and state and stops at --limit', async () => {
    expect((await listed('--kind', 'movie')).runs.map((r) => r.runId)).toEqual([ids.running, ids.search, ids.expired]);
    expect((await listed('--state', 'completed')).runs.map((r) => r.runId)).toEqual([ids.search, ids.indexOnly, ids.expired]);
    expect((await listed('--kind', 'tv', '--state', 'running')).runs).toEqual([]);
    expect((await listed('--limit', '2')).runs.map((r) => r.runId)).toEqual([ids.running, ids.search]);
  });

  it('prints a table a person can read', async () => {
    const { stdout } = await runs('--limit', '3');
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^RUN\s+KIND\s+SOURCE\s+STATE\s+PROGRESS\s+RECORDS\s+FAILED\s+CREATED\s+FINISHED\s+AUDIT$/);
    expect(lines).toHaveLength(4);
    expect(lines[1]).toMatch(new RegExp(`^${ids.running}\\s+movie\\s+discover\\s+running\\s+0/\\d+ titles\\s+0\\s+0\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ\\s+-\\s+-$`));
    expect(lines[3]).toMatch(new RegExp(`^${ids.indexOnly}\\s+tv\\s+discover\\s+completed\\s+60/60 titles\\s+60\\s+0\\s.*\\spartial$`));
  });

  it('refuses bad options with exit 2 and one line naming the value', async () => {
    for (const [args, pattern] of [
      [['--kind', 'film'], /--kind "film".*movie, tv, upload, sync/],
      [['--state', 'done'], /--state "done".*running, finalizing, completed, failed, cancelled/],
      [['--limit', '0'], /--limit "0"/],
    ] as const) {
      const res = await runCli(['runs', ...args], env, 20_000);
      expect(res.code).toBe(2);
      expect(res.stderr.trim().split('\n')).toHaveLength(1);
      expect(res.stderr).toMatch(pattern);
      expect(res.stdout).toBe('');
    }
  });
});
