/**
 * `tmdb-fleet sandbox` is a TMDB the fleet runs against offline: the real CLI serves it, a
 * backfill through it lands every title exactly once in S3 (s3rver), it answers 429 with
 * Retry-After over its own limit and publishes its daily exports; SIGINT stops it with exit 0;
 * bad flags exit 2 with one line naming the flag.
 */
import { once } from 'node:events';
import { createServer } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterEach, expect, it } from 'vitest';
import { daysAgo } from '../src/sandbox/days.js';
import { exportFileName } from '../src/sandbox/feeds.js';
import { lastJsonLine, runCli, startCli, type CliProcess } from './support/fleet-process.js';
import { useFleetHarness } from './support/harness.js';
import { readRun } from './support/lake-reader.js';

const h = useFleetHarness({ buckets: ['lake'] });
let sandbox: CliProcess | undefined;

afterEach(() => {
  if (sandbox?.child.exitCode === null) sandbox.child.kill('SIGKILL');
  sandbox = undefined;
});

/** A TCP port nothing listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** Starts `tmdb-fleet sandbox …args` and returns the variables its one stdout line says to export. */
async function startSandbox(args: string[]): Promise<Record<string, string>> {
  sandbox = startCli(['sandbox', ...args], {}, 120_000);
  const started = sandbox;
  const deadline = Date.now() + 20_000;
  while (!started.stdout().includes('\n')) {
    if (Date.now() > deadline || started.child.exitCode !== null) throw new Error(`sandbox did not start:\n${started.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const line = started.stdout().trim();
  expect(line.split('\n')).toHaveLength(1);
  return Object.fromEntries([...line.matchAll(/(TMDB_[A-Z_]+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));
}

it('a backfill against the sandbox lands every one of its 300 movies exactly once; SIGINT stops it with exit 0', async () => {
  const port = await freePort();
  const vars = await startSandbox(['--port', String(port), '--movies', '300']);
  expect(vars).toEqual({
    TMDB_API_BASE_URL: `http://127.0.0.1:${port}/3`,
    TMDB_FILES_BASE_URL: `http://127.0.0.1:${port}`,
    TMDB_ACCESS_TOKEN: 'sandbox',
  });
  const e = h.env(vars);
  const res = await runCli(['backfill', 'movie', '--from', '2020-01-01', '--to', '2024-12-31', '--wait', '--workers', '2', '--yes', '--json'], e);
  expect(res.code, res.stderr).toBe(0);
  const summary = lastJsonLine<{ runId: string; state: string; records: number }>(res.stdout);
  expect(summary).toMatchObject({ state: 'completed', records: 300 });
  const lake = await readRun(e, 'movie', summary.runId);
  expect([...lake.idCounts.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
  expect([...lake.idCounts.values()].every((n) => n === 1)).toBe(true);
  expect(lake.manifest.state).toBe('completed');

  sandbox!.child.kill('SIGINT');
  expect((await sandbox!.result).code).toBe(0);
});

it('answers 429 with Retry-After over its --rate-limit, and publishes today\'s export without a credential', async () => {
  const port = await freePort();
  const vars = await startSandbox(['--port', String(port), '--movies', '40', '--tv', '0', '--rate-limit', '5']);
  const auth = { authorization: `Bearer ${vars.TMDB_ACCESS_TOKEN}` };
  const answers = await Promise.all(Array.from({ length: 12 }, () => fetch(`${vars.TMDB_API_BASE_URL}/discover/movie`, { headers: auth })));
  const limited = answers.filter((r) => r.status === 429);
  expect(answers.filter((r) => r.status === 200)).toHaveLength(5);
  expect(limited).toHaveLength(7);
  expect(limited[0]!.headers.get('retry-after')).toBe('1');
  expect(((await limited[0]!.json()) as { status_code: number }).status_code).toBe(25);
  expect((await fetch(`${vars.TMDB_API_BASE_URL}/configuration`)).status).toBe(401);

  const exported = await fetch(`${vars.TMDB_FILES_BASE_URL}/p/exports/${exportFileName('movie', daysAgo(0))}`);
  expect(exported.status).toBe(200);
  const text = gunzipSync(Buffer.from(await exported.arrayBuffer())).toString('utf8');
  expect(text.trim().split('\n')).toHaveLength(40);

  sandbox!.child.kill('SIGTERM');
  expect((await sandbox!.result).code).toBe(0);
});

it.each([
  [['--port', '70000'], /--port.*"70000" is not 0-65535/],
  [['--movies', '-5'], /--movies "-5" is not a whole number from 0 to/],
  [['--tv', 'many'], /--tv "many" is not a whole number from 0 to/],
  [['--rate-limit', '0'], /--rate-limit "0" is not a number above 0/],
  [['--latency-ms', '-1'], /--latency-ms "-1" is not a whole number from 0 to/],
])('refuses sandbox %j: one line naming the flag, exit 2', async (args, message) => {
  const res = await runCli(['sandbox', ...args], {}, 20_000);
  expect(res.code).toBe(2);
  expect(res.stdout).toBe('');
  expect(res.stderr.trim().split('\n')).toHaveLength(1);
  expect(res.stderr).toMatch(message);
});
