/**
 * The main job on real input: the fake TMDB serves the recorded TMDB documents in
 * src/sandbox/fixtures/tmdb (discover pages, Fight Club, Alien, The Bourne Identity, Game of
 * Thrones); the raw zone must hold them exactly as TMDB sent them, with their external_ids.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { RECORDED_DIR as FIXTURES } from '../src/sandbox/fixtures.js';
import { lastJsonLine, runCli } from './support/fleet-process.js';
import { useFleetHarness } from './support/harness.js';
import { readRun } from './support/lake-reader.js';

const fixture = (name: string) => JSON.parse(readFileSync(path.join(FIXTURES, name), 'utf8')) as Record<string, unknown>;

const h = useFleetHarness({ tmdb: { recorded: true } });
const env = () => h.env({ TMDB_RATE_LIMIT_RPS: '200' });

it('lands the recorded movie documents unchanged, with external_ids, in the local lake', async () => {
  const e = env();
  h.startWorkers(e, 2);
  const res = await runCli(['backfill', 'movie', '--yes', '--wait', '--json'], e);
  expect(res.code, res.stderr).toBe(0);
  expect(res.stderr).toContain('S3_BUCKET is unset');
  const summary = lastJsonLine<{ runId: string; records: number; state: string }>(res.stdout);
  expect(summary.state).toBe('completed');
  expect(summary.records).toBe(h.tmdb.titles('movie').length);

  const lake = await readRun(e, 'movie', summary.runId);
  const byId = new Map(lake.records.map((r) => [Number(r.doc.id), r.doc]));
  const { id: _id, ...externalIds550 } = fixture('movie-550-external_ids.json');
  expect(byId.get(550)).toEqual({ ...fixture('movie-550.json'), external_ids: externalIds550 });
  const bourne = byId.get(2501);
  expect(bourne).toMatchObject(fixture('movie-2501.json'));
  expect(bourne).toHaveProperty('external_ids.imdb_id', 'tt0258463');
  expect(byId.get(348)).toMatchObject(fixture('movie-348.json'));
  const page1 = fixture('discover-movie-page1.json') as { results: { id: number }[] };
  for (const item of page1.results) expect(byId.has(item.id)).toBe(true);
});

it('lands Game of Thrones as recorded with append_to_response=external_ids', async () => {
  const e = env();
  h.startWorkers(e);
  const res = await runCli(['backfill', 'tv', '--yes', '--wait', '--json'], e);
  expect(res.code, res.stderr).toBe(0);
  const summary = lastJsonLine<{ runId: string }>(res.stdout);
  const lake = await readRun(e, 'tv', summary.runId);
  const got = lake.records.find((r) => r.doc.id === 1399)?.doc;
  expect(got).toEqual(fixture('tv-1399-append-external_ids.json'));
});
