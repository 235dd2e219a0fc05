/**
 * `tmdb-fleet check` looks before you leap: against a test Redis, s3rver and the fake TMDB every
 * line is ok (exit 0); a wrong bucket, a refused token, an evicting Redis, an unreachable Redis
 * and a files host without exports each give a line naming the variable to fix (exit 1); a bad
 * configuration exits 2; no secret value is ever printed.
 */
import { Redis } from 'ioredis';
import { expect, it } from 'vitest';
import { daysAgo } from '../src/sandbox/days.js';
import { exportFileName } from '../src/sandbox/feeds.js';
import { runCli, type CliResult } from './support/fleet-process.js';
import { useFleetHarness } from './support/harness.js';

const h = useFleetHarness({ tmdb: { movie: { count: 20, from: '2024-01-01', to: '2024-01-31' } }, buckets: ['lake'] });

const SECRETS = {
  DASHBOARD_USER: 'admin',
  DASHBOARD_PASSWORD: 'dash-SECRET-password',
  SYNC_WEBHOOK_SECRET: 'hook-SECRET-0123456789abcdef',
};
const env = (extra: Record<string, string> = {}) => h.env({ TMDB_FILES_BASE_URL: h.tmdb.filesUrl, ...SECRETS, ...extra });

/** The output's line for a check, e.g. `fail lake   S3 bucket …`. */
const line = (res: CliResult, name: string) => res.stdout.split('\n').find((l) => l.split(/\s+/)[1] === name) ?? '';

/** No value of `secrets` anywhere in what the command printed. */
function expectNoSecret(res: CliResult, secrets: string[]): void {
  for (const secret of secrets) {
    expect(res.stdout).not.toContain(secret);
    expect(res.stderr).not.toContain(secret);
  }
}

it('all ok against Redis, s3rver, the fake TMDB and its files host: five ok lines, exit 0, secrets masked', async () => {
  h.tmdb.configure({ exports: { [exportFileName('movie', daysAgo(0))]: () => ['{"adult":false,"id":1,"popularity":1.5,"video":false}'] } });
  const e = env();
  const res = await runCli(['check'], e, 60_000);
  expect(res.code, res.stdout + res.stderr).toBe(0);
  const lines = res.stdout.trim().split('\n');
  expect(lines.map((l) => l.split(/\s+/).slice(0, 2).join(' '))).toEqual(['ok config', 'ok redis', 'ok lake', 'ok tmdb', 'ok files']);
  expect(line(res, 'config')).toContain('TMDB_ACCESS_TOKEN=****(set)');
  expect(line(res, 'config')).toContain('AWS_SECRET_ACCESS_KEY=****(set)');
  expect(line(res, 'config')).toContain('DASHBOARD_PASSWORD=****(set)');
  expect(line(res, 'config')).toContain('SYNC_WEBHOOK_SECRET=****(set)');
  expect(line(res, 'config')).toContain('TMDB_API_KEY=****(unset)');
  expect(line(res, 'config')).toContain('S3_BUCKET=lake');
  expect(line(res, 'redis')).toMatch(/Redis \d+\.\d+\.\d+ at 127\.0\.0\.1:\d+ \(REDIS_URL\) answers, maxmemory-policy noeviction/);
  expect(line(res, 'lake')).toContain('s3://lake (S3_BUCKET) answers HeadBucket');
  expect(line(res, 'tmdb')).toContain('accepts the credential in TMDB_ACCESS_TOKEN (GET /configuration)');
  expect(line(res, 'files')).toContain(`publishes ${exportFileName('movie', daysAgo(0))}`);
  expectNoSecret(res, [e.TMDB_ACCESS_TOKEN!, e.AWS_SECRET_ACCESS_KEY!, SECRETS.DASHBOARD_PASSWORD, SECRETS.SYNC_WEBHOOK_SECRET]);

  const json = await runCli(['check', '--json'], e, 60_000);
  expect(json.code).toBe(0);
  const report = JSON.parse(json.stdout) as { ok: boolean; checks: { name: string; ok: boolean; detail: string }[] };
  expect(report.ok).toBe(true);
  expect(report.checks.map((c) => [c.name, c.ok])).toEqual([['config', true], ['redis', true], ['lake', true], ['tmdb', true], ['files', true]]);
});

it('a wrong bucket, a refused token and an evicting Redis: one line each naming the fix, exit 1, no secret printed', async () => {
  const admin = new Redis(h.redis.url);
  await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
  try {
    const token = 'refused-SECRET-token-42';
    const res = await runCli(['check'], env({ S3_BUCKET: 'no-such-bucket', TMDB_ACCESS_TOKEN: token }), 60_000);
    expect(res.code, res.stdout + res.stderr).toBe(1);
    expect(line(res, 'config')).toMatch(/^ok/);
    expect(line(res, 'lake')).toBe('fail lake   S3 bucket "no-such-bucket" (S3_BUCKET) does not exist');
    expect(line(res, 'tmdb')).toMatch(/^fail tmdb {3}TMDB refused the credential in TMDB_ACCESS_TOKEN \(HTTP 401.*\); set a valid TMDB_ACCESS_TOKEN$/);
    expect(line(res, 'redis')).toMatch(/^fail redis .*\(REDIS_URL\) has maxmemory-policy allkeys-lru: BullMQ needs noeviction; set maxmemory-policy noeviction/);
    expect(line(res, 'files')).toMatch(/^ok/);
    expectNoSecret(res, [token, 'S3RVER', SECRETS.DASHBOARD_PASSWORD, SECRETS.SYNC_WEBHOOK_SECRET]);
  } finally {
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    admin.disconnect();
  }
});

it('an unreachable Redis and a files host without exports: lines naming REDIS_URL and TMDB_FILES_BASE_URL, the password masked', async () => {
  h.tmdb.configure({ exports: {} });
  const res = await runCli(['check', '--json'], env({ REDIS_URL: 'redis://:redis-SECRET-pw@127.0.0.1:1' }), 60_000);
  expect(res.code).toBe(1);
  const report = JSON.parse(res.stdout) as { ok: boolean; checks: { name: string; ok: boolean; detail: string }[] };
  const byName = new Map(report.checks.map((c) => [c.name, c]));
  expect(report.ok).toBe(false);
  expect(byName.get('config')?.detail).toContain('REDIS_URL=redis://:****@127.0.0.1:1');
  expect(byName.get('redis')).toMatchObject({ ok: false, detail: expect.stringContaining('cannot connect to Redis at 127.0.0.1:1 (REDIS_URL)') });
  expect(byName.get('files')).toMatchObject({ ok: false, detail: expect.stringMatching(/has no movie export for .* check TMDB_FILES_BASE_URL$/) });
  expect(byName.get('tmdb')?.ok).toBe(true);
  expectNoSecret(res, ['redis-SECRET-pw']);
});

it('a bad configuration: exit 2, naming the variable, nothing checked', async () => {
  const res = await runCli(['check'], env({ REDIS_URL: 'localhost:6379' }), 60_000);
  expect(res.code).toBe(2);
  expect(res.stdout).toBe('');
  expect(res.stderr).toContain('REDIS_URL="localhost:6379": expected a URL starting with redis:// or rediss://');
});
