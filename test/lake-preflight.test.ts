/**
 * A lake that cannot be written stops everything at start, with one clear message and before
 * any TMDB request: a missing bucket, credentials S3 denies, a worker pointed at a missing bucket.
 * A lake that is down for a while (5xx) does not stop a worker: it waits and then works.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { expect, it } from 'vitest';
import { startS3FaultProxy } from './support/s3-fault-proxy.js';
import { cliArgs, lastJsonLine, runCli, startWorker } from './support/fleet-process.js';
import { until } from './support/until.js';
import { useFleetHarness } from './support/harness.js';

const h = useFleetHarness({ tmdb: { movie: { count: 40, from: '2015-01-01', to: '2015-12-31' } }, buckets: ['present'] });
const env = (extra: Record<string, string>) => h.env({ LOG_LEVEL: 'silent', ...extra });

it('refuses a backfill into a missing bucket before any TMDB request', async () => {
  h.tmdb.resetStats();
  const res = await runCli(['backfill', 'movie', '--from', '2015-01-01', '--to', '2015-12-31'], env({ S3_BUCKET: 'no-such-bucket' }));
  expect(res.code).toBe(1);
  expect(res.stderr).toContain('S3 bucket "no-such-bucket" (S3_BUCKET) does not exist');
  expect(h.tmdb.stats().requests).toBe(0);
});

it('refuses credentials S3 denies, naming the bucket, without printing the secret', async () => {
  const proxy = await startS3FaultProxy(h.s3?.endpoint ?? '', { accessDenied: true });
  try {
    h.tmdb.resetStats();
    const res = await runCli(['backfill', 'movie', '--yes'], env({ AWS_ENDPOINT_URL_S3: proxy.endpoint, AWS_SECRET_ACCESS_KEY: 'denied-SECRET-key-1' }));
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('S3 bucket "present" (S3_BUCKET) denies access to these credentials');
    expect(res.stderr).not.toContain('denied-SECRET-key-1');
    expect(h.tmdb.stats().requests).toBe(0);
  } finally {
    await proxy.close();
  }
});

it('stops a worker at start when its bucket is missing, exit code 1 within seconds', async () => {
  const child = spawn(process.execPath, cliArgs('worker'), {
    env: { ...process.env, ...env({ S3_BUCKET: 'no-such-bucket' }) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  expect(code).toBe(1);
  expect(stderr).toContain('no-such-bucket');
});

it('keeps a worker started while S3 answers 503 waiting, and it works the run once S3 is back', async () => {
  const proxy = await startS3FaultProxy(h.s3?.endpoint ?? '', { outage: true });
  const viaProxy = env({ AWS_ENDPOINT_URL_S3: proxy.endpoint, LOG_LEVEL: 'warn' });
  const worker = startWorker(viaProxy);
  try {
    await until('two lake checks refused', 30_000, () => proxy.injected().outage >= 2 * 5); // 5 SDK attempts each
    expect(worker.child.exitCode, worker.output()).toBeNull();
    expect(worker.output()).toContain('the lake cannot be reached yet; the worker starts when it answers');
    proxy.configure({ outage: false });
    const res = await runCli(['backfill', 'movie', '--from', '2015-01-01', '--to', '2015-12-31', '--wait', '--json'], viaProxy, 60_000);
    expect(res.code, res.stderr).toBe(0);
    const run = lastJsonLine<{ state: string; records: number; fetched: number; notFound: number }>(res.stdout);
    expect(run.state).toBe('completed');
    expect(run.records).toBe(run.fetched);
    expect(run.fetched + run.notFound).toBe(40);
  } finally {
    await worker.kill();
    await proxy.close();
  }
});
