/**
 * More ways in through the same pipeline: a title search (the five Bourne films) and IMDB-id
 * enrichment from a team's pipe-delimited CSV, each its own run and manifest, exactly once.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { BOURNE_DIR, RECORDED_DIR as FIXTURES } from '../src/sandbox/fixtures.js';
import { startFakeTmdb } from '../src/sandbox/server.js';
import { lastJsonLine, runCli } from './support/fleet-process.js';
import { useFleetHarness } from './support/harness.js';
import { readRun } from './support/lake-reader.js';

const BOURNE = [2501, 2502, 2503, 49040, 324668];
const fixture = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
const HEADER =
  'id|tituloPincipal|tituloOriginal|anoLancamento|tempoMinutos|genero|notaMedia|numeroVotos|generoArtista|personagem|nomeArtista|anoNascimento|anoFalecimento|profissao|titulosMaisConhecidos';

const h = useFleetHarness({ tmdb: { recorded: true } });
const env = () => h.env({ TMDB_RATE_LIMIT_RPS: '200' });

it('search movie --query "Bourne" lands the five Bourne films exactly once, as TMDB serves them', async () => {
  const e = env();
  h.startWorkers(e, 2);
  const res = await runCli(['search', 'movie', '--query', 'Bourne', '--wait', '--json'], e);
  expect(res.code, res.stderr).toBe(0);
  const s = lastJsonLine<{ runId: string; state: string; source: string; records: number }>(res.stdout);
  expect(s).toMatchObject({ state: 'completed', source: 'search', records: 5 });
  const lake = await readRun(e, 'movie', s.runId);
  expect([...lake.idCounts.keys()].sort((a, b) => a - b)).toEqual(BOURNE);
  expect([...lake.idCounts.values()]).toEqual([1, 1, 1, 1, 1]);
  const byId = new Map(lake.records.map((r) => [Number(r.doc.id), r.doc]));
  expect(byId.get(2501)).toMatchObject(fixture(path.join(FIXTURES, 'movie-2501.json')));
  expect(byId.get(324668)).toMatchObject(fixture(path.join(BOURNE_DIR, 'movie-324668.json')));
  expect(lake.manifest.state).toBe('completed');
  // Without --json: a search run's titles, its search pages, its objects.
  const human = await runCli(['status', s.runId], e);
  expect(human.stdout.trimEnd().split('\n')).toEqual([
    `run ${s.runId} (movie search) completed`,
    expect.stringMatching(/^ {2}titles: 5 discovered, 5 fetched, 0 not found, 0 failed \(TMDB reported \d+\)$/),
    '  search pages: 1/1 done, 0 failed',
    `  lake: ${lake.keys.length} objects, 5 records`,
    '  audit: complete',
  ]);
});

it('search without --all-pages takes the first page; with it, every page', async () => {
  const big = await startFakeTmdb({ movie: { count: 300, from: '2010-01-01', to: '2010-12-31' } });
  try {
    const e = { ...env(), TMDB_API_BASE_URL: big.url, TMDB_RATE_LIMIT_RPS: '1000' };
    h.startWorkers(e, 2);
    const first = await runCli(['search', 'movie', '--query', 'synthetic movie', '--wait', '--json'], e);
    expect(lastJsonLine<{ records: number; expected: number }>(first.stdout)).toMatchObject({ records: 20, expected: 300 });
    // The first page is all a search without --all-pages asks for: complete by its audit.
    expect(first.code, first.stderr).toBe(0);
    expect(lastJsonLine<{ verdict: string }>(first.stdout).verdict).toBe('complete');
    const all = await runCli(['search', 'movie', '--query', 'synthetic movie', '--all-pages', '--wait', '--json'], e);
    const s = lastJsonLine<{ runId: string; records: number }>(all.stdout);
    expect(s.records).toBe(300);
    expect(all.code, all.stderr).toBe(0);
    const lake = await readRun(e, 'movie', s.runId);
    expect(lake.idCounts.size).toBe(300);
  } finally {
    await big.close();
  }
});

it('enrich finds TMDB titles for the IMDB ids of a pipe-delimited CSV, filtered, and lists the unmatched', async () => {
  const e = env();
  const dir = mkdtempSync(path.join(tmpdir(), 'tmdb-fleet-csv-'));
  const csv = path.join(dir, 'movies.csv');
  const row = (id: string, title: string, genre: string) => `${id}|${title}|${title}|2002|119|${genre}|7.9|500000|\\N|\\N|\\N|\\N|\\N|\\N|\\N`;
  writeFileSync(
    csv,
    [
      HEADER,
      row('tt0258463', 'A Identidade Bourne', 'Action,Mystery,Thriller'),
      row('tt0258463', 'A Identidade Bourne', 'Action,Mystery,Thriller'), // same id twice: one job
      row('tt0372183', 'A Supremacia Bourne', 'Action,Thriller'),
      row('tt0137523', 'Clube da Luta', 'Drama'), // filtered out
      row('tt9999999', 'Desconhecido', 'Action'), // no TMDB match
      row('\\N', 'Sem id', 'Action'),
    ].join('\n') + '\n',
  );
  h.startWorkers(e);
  const res = await runCli(['enrich', '--csv', csv, '--id-column', 'id', '--filter', 'genero=Action', '--wait', '--json'], e);
  expect(res.code, res.stderr).toBe(0);
  expect(res.stderr).toContain('6 rows read, 5 kept by the filter, 3 distinct IMDB ids');
  const s = lastJsonLine<{ runId: string; state: string; records: number; unmatched: number }>(res.stdout);
  expect(s).toMatchObject({ state: 'completed', records: 2, unmatched: 1 });
  // An IMDB id TMDB does not know is reported (unmatchedImdbIds), not a shortfall of the run.
  expect(lastJsonLine<{ verdict: string }>(res.stdout).verdict).toBe('complete');
  const lake = await readRun(e, 'movie', s.runId);
  expect([...lake.idCounts.keys()].sort((a, b) => a - b)).toEqual([2501, 2502]);
  expect((lake.manifest as unknown as { unmatchedImdbIds: string[] }).unmatchedImdbIds).toEqual(['tt9999999']);
  // Without --json: IMDB ids matched and unmatched, then the titles they matched.
  const human = await runCli(['status', s.runId], e);
  expect(human.stdout.trimEnd().split('\n')).toEqual([
    `run ${s.runId} (movie enrich) completed`,
    '  IMDB ids: 3 in the CSV, 2 matched, 1 unmatched (listed in the manifest), 0 lookups failed',
    '  titles: 2 matched, 2 fetched, 0 not found, 0 failed',
    `  lake: ${lake.keys.length} objects, 2 records`,
    '  audit: complete',
  ]);
});

it('refuses bad search and enrich input with one clear line', async () => {
  const e = env();
  const empty = await runCli(['search', 'movie', '--query', '  '], e);
  expect(empty.code).toBe(2);
  expect(empty.stderr).toContain('--query is empty');
  const dir = mkdtempSync(path.join(tmpdir(), 'tmdb-fleet-csv-'));
  const csv = path.join(dir, 'series.csv');
  writeFileSync(csv, `${HEADER}\n`);
  const noColumn = await runCli(['enrich', '--csv', csv, '--id-column', 'imdb'], e);
  expect(noColumn.code).toBe(2);
  expect(noColumn.stderr).toContain('has no column "imdb": its columns are id, tituloPincipal');
  const missing = await runCli(['enrich', '--csv', path.join(dir, 'nope.csv'), '--id-column', 'id'], e);
  expect(missing.code).toBe(2);
  expect(missing.stderr).toContain('no such readable file');
});

it('reads the CSV header as csv-parse reads the rows: quoted names are names', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tmdb-fleet-csv-'));
  const csv = path.join(dir, 'quoted.csv');
  writeFileSync(csv, '"id"| titulo |"ano|lancamento"\ntt0258463|A Identidade Bourne|2002\n');
  const res = await runCli(['enrich', '--csv', csv, '--id-column', 'imdb'], env());
  expect(res.code).toBe(2);
  expect(res.stderr).toContain('has no column "imdb": its columns are id, titulo, ano|lancamento');
});
