/**
 * Errors name the fix: a bad S3 endpoint, missing S3 credentials and a TMDB base URL without
 * `/3` each stop a backfill with one line naming the variable to fix and the cause, before any
 * run is recorded.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { runCli, type CliResult } from './support/fleet-process.js';
import { useFleetHarness } from './support/harness.js';

const h = useFleetHarness({ tmdb: { movie: { count: 50, from: '2024-01-01', to: '2024-01-31' } } });
const MONTH = ['backfill', 'movie', '--from', '2024-01-01', '--to', '2024-01-31'];
/** The error line: the last stderr line (a local lake adds a notice before it). */
const errorLine = (res: CliResult) => res.stderr.trim().split('\n').pop() ?? '';
const errorLines = (res: CliResult) => res.stderr.split('\n').filter((l) => l.startsWith('tmdb-fleet:') && !l.includes('S3_BUCKET is unset'));

it('a bad AWS_ENDPOINT_URL_S3: one line naming the endpoint, the cause and the variable; exit 1', async () => {
  const e = h.env({
    S3_BUCKET: 'lake',
    S3_FORCE_PATH_STYLE: 'true',
    AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9',
    AWS_ACCESS_KEY_ID: 'k',
    AWS_SECRET_ACCESS_KEY: 's',
  });
  const res = await runCli(MONTH, e, 60_000);
  expect(res.code).toBe(1);
  expect(errorLines(res)).toHaveLength(1);
  expect(errorLine(res)).toMatch(/S3 bucket "lake" \(S3_BUCKET\) cannot be reached at http:\/\/127\.0\.0\.1:9\/?: ECONNREFUSED/);
  expect(errorLine(res)).toContain('check AWS_ENDPOINT_URL_S3');
  expect(h.tmdb.stats().discoverRequests).toBe(0);
});

it('no S3 credentials anywhere: one line naming AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; exit 2', async () => {
  const home = mkdtempSync(path.join(tmpdir(), 'tmdb-fleet-nohome-'));
  const e = h.env({
    S3_BUCKET: 'lake',
    S3_FORCE_PATH_STYLE: 'true',
    AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9',
    HOME: home,
    AWS_CONFIG_FILE: path.join(home, 'none'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(home, 'none'),
    AWS_EC2_METADATA_DISABLED: 'true',
  });
  const res = await runCli(MONTH, e, 60_000);
  expect(res.code).toBe(2);
  expect(errorLines(res)).toHaveLength(1);
  expect(errorLine(res)).toContain('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: set both');
  expect(errorLine(res)).not.toContain('CredentialsProviderError');
});

it('TMDB_API_BASE_URL without /3: one line naming the variable and the expected base; exit 2', async () => {
  const base = h.tmdb.url.replace(/\/3$/, '');
  const res = await runCli(MONTH, h.env({ TMDB_API_BASE_URL: base }), 60_000);
  expect(res.code).toBe(2);
  expect(errorLines(res)).toHaveLength(1);
  expect(errorLine(res)).toContain(`TMDB_API_BASE_URL="${base}" has no TMDB API v3`);
  expect(errorLine(res)).toContain('e.g. https://api.themoviedb.org/3');
});
