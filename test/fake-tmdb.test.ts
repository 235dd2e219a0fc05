import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gunzipSync } from 'node:zlib';
import { daysAgo } from '../src/sandbox/days.js';
import { exportFileName } from '../src/sandbox/feeds.js';
import { RECORDED_DIR } from '../src/sandbox/fixtures.js';
import { startFakeTmdb, type FakeTmdb } from '../src/sandbox/server.js';

const fixturesDir = RECORDED_DIR;
const fixture = (name: string): unknown => JSON.parse(readFileSync(path.join(fixturesDir, name), 'utf8'));

const AUTH = { Authorization: 'Bearer test-token' };

interface Page {
  page: number;
  results: Record<string, unknown>[];
  total_pages: number;
  total_results: number;
}

async function get(url: string, headers: Record<string, string> = AUTH): Promise<{ status: number; body: unknown; res: Response }> {
  const res = await fetch(url, { headers });
  return { status: res.status, body: await res.json(), res };
}

const keyTypes = (o: Record<string, unknown>): [string, string][] =>
  Object.entries(o).map(([k, v]) => [k, v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v]);

describe('fake TMDB: synthetic catalog', () => {
  let fake: FakeTmdb;
  beforeAll(async () => {
    fake = await startFakeTmdb({
      movie: { count: 5000, from: '2000-01-01', to: '2009-12-31', seed: 7 },
      tv: { count: 300, from: '2010-01-01', to: '2010-12-31' },
      notFoundIds: [42],
    });
  });
  afterAll(async () => {
    await fake.close();
  });

  it('pages discover 20 at a time in a stable date/id order with full totals', async () => {
    const { status, body, res } = await get(`${fake.url}/discover/movie?page=2`);
    expect(status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json;charset=utf-8');
    const p = body as Page;
    expect(p.page).toBe(2);
    expect(p.results).toHaveLength(20);
    expect(p.total_results).toBe(5000);
    expect(p.total_pages).toBe(250);
    const expected = fake.titles('movie').slice(20, 40);
    expect(p.results.map((r) => r.id)).toEqual(expected.map((t) => t.id));
    expect(p.results.map((r) => r.release_date)).toEqual(expected.map((t) => t.date));
    // Same keys and value types as the recorded discover item.
    const recorded = (fixture('discover-movie-page1.json') as Page).results[0]!;
    expect(keyTypes(p.results[0]!)).toEqual(keyTypes(recorded));
    const beyond = (await get(`${fake.url}/discover/movie?page=300`)).body as Page;
    expect(beyond.results).toEqual([]);
    expect(beyond.total_results).toBe(5000);
  });

  it('refuses page 501, 0 and non-integers with 400 / status_code 22', async () => {
    for (const page of ['501', '0', '1.5', 'x']) {
      const { status, body } = await get(`${fake.url}/discover/movie?page=${page}`);
      expect(status).toBe(400);
      expect(body).toEqual(fixture('error-400-invalid-page.json'));
    }
  });

  it('requires the token (Bearer or api_key)', async () => {
    const none = await get(`${fake.url}/discover/movie`, {});
    expect(none.status).toBe(401);
    expect(none.body).toEqual(fixture('error-401-invalid-api-key.json'));
    const wrong = await get(`${fake.url}/movie/1`, { Authorization: 'Bearer nope' });
    expect(wrong.status).toBe(401);
    expect((wrong.body as { status_code: number }).status_code).toBe(7);
    const key = await get(`${fake.url}/discover/tv?api_key=test-token`, {});
    expect(key.status).toBe(200);
  });

  it('filters by date, vote count and language (inclusive)', async () => {
    const all = fake.titles('movie');
    const want = all.filter(
      (t) => t.date >= '2003-02-01' && t.date <= '2003-03-31' && t.voteCount >= 5 && ['en', 'fr'].includes(t.originalLanguage),
    );
    const { body } = await get(
      `${fake.url}/discover/movie?primary_release_date.gte=2003-02-01&primary_release_date.lte=2003-03-31&vote_count.gte=5&with_original_language=en|fr&language=de-DE`,
    );
    const p = body as Page;
    expect(p.total_results).toBe(want.length);
    expect(p.results.map((r) => r.id)).toEqual(want.slice(0, 20).map((t) => t.id));
    const day = all[100]!.date;
    const tv = (await get(`${fake.url}/discover/tv?first_air_date.gte=2010-06-01&first_air_date.lte=2010-06-01`)).body as Page;
    expect(tv.total_results).toBe(fake.titles('tv').filter((t) => t.date === '2010-06-01').length);
    const one = (await get(`${fake.url}/discover/movie?primary_release_date.gte=${day}&primary_release_date.lte=${day}`)).body as Page;
    expect(one.results.every((r) => r.release_date === day)).toBe(true);
  });

  it('serves details with external_ids (no id key) and 404s unknown / notFound ids', async () => {
    const id = fake.titles('movie')[0]!.id;
    const { status, body } = await get(`${fake.url}/movie/${id}?append_to_response=external_ids`);
    expect(status).toBe(200);
    const doc = body as Record<string, unknown>;
    expect(doc.id).toBe(id);
    expect(doc.imdb_id).toBe(`tt${String(id).padStart(7, '0')}`);
    expect(Object.keys(doc.external_ids as object)).toEqual(['imdb_id', 'wikidata_id', 'facebook_id', 'instagram_id', 'twitter_id']);
    const { external_ids: _e, ...plain } = doc;
    void _e;
    expect(keyTypes(plain).map(([k]) => k)).toEqual(Object.keys(fixture('movie-348.json') as object));
    for (const url of [`${fake.url}/movie/42`, `${fake.url}/movie/999999`, `${fake.url}/nope`]) {
      const r = await get(url);
      expect(r.status).toBe(404);
      expect((r.body as { status_code: number }).status_code).toBe(34);
    }
    const s = fake.stats();
    expect(s.detailsIdsServed[`movie:${id}`]).toBe(1);
    expect(s.byStatus['404']).toBeGreaterThanOrEqual(3);
  });

  it('rate limits with 429 + Retry-After, then recovers on configure', async () => {
    fake.configure({ rateLimit: { rps: 5, retryAfterSec: 2 } });
    const rs = await Promise.all(Array.from({ length: 10 }, () => fetch(`${fake.url}/movie/${fake.titles('movie')[1]!.id}`, { headers: AUTH })));
    const limited = rs.filter((r) => r.status === 429);
    expect(limited.length).toBe(5);
    expect(limited[0]!.headers.get('retry-after')).toBe('2');
    const body = (await limited[0]!.json()) as { status_code: number; status_message: string };
    expect(body.status_code).toBe(25);
    expect(body.status_message).toMatch(/^Your request count \(\d+\) is over the allowed limit of 5\.$/);
    await Promise.all(rs.filter((r) => !r.bodyUsed).map((r) => r.arrayBuffer()));
    fake.configure({ rateLimit: undefined });
    expect((await get(`${fake.url}/discover/movie`)).status).toBe(200);
  });

  it('injects 5xx and dropped sockets deterministically', async () => {
    fake.configure({ errorRate: 1 });
    const err = await get(`${fake.url}/discover/movie`);
    expect([500, 502, 503]).toContain(err.status);
    expect((err.body as { status_code: number }).status_code).toBe(11);
    fake.configure({ errorRate: 0, dropRate: 1 });
    await expect(fetch(`${fake.url}/discover/movie`, { headers: AUTH })).rejects.toThrow();
    fake.configure({ dropRate: 0 });
    expect(fake.stats().byStatus.dropped).toBeGreaterThanOrEqual(1);
  });

  it('adds latency and tracks in-flight requests', async () => {
    fake.resetStats();
    fake.configure({ latencyMs: [20, 30] });
    const t0 = Date.now();
    const rs = await Promise.all(Array.from({ length: 5 }, () => get(`${fake.url}/discover/tv`)));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(19);
    expect(rs.every((r) => r.status === 200)).toBe(true);
    fake.configure({ latencyMs: 0 });
    const s = fake.stats();
    expect(s.requests).toBe(5);
    expect(s.discoverRequests).toBe(5);
    expect(s.maxInFlight).toBeGreaterThanOrEqual(2);
  });
});

describe('fake TMDB: recorded fixtures', () => {
  let fake: FakeTmdb;
  beforeAll(async () => {
    fake = await startFakeTmdb({ recorded: true, token: 'rec' });
  });
  afterAll(async () => {
    await fake.close();
  });
  const auth = { Authorization: 'Bearer rec' };

  it('serves the recorded documents as recorded', async () => {
    const m550 = await get(`${fake.url}/movie/550`, auth);
    expect(m550.body).toEqual(fixture('movie-550.json'));
    const { id: _id, ...ext } = fixture('movie-550-external_ids.json') as Record<string, unknown>;
    void _id;
    const m550x = await get(`${fake.url}/movie/550?append_to_response=external_ids`, auth);
    expect(m550x.body).toEqual({ ...(fixture('movie-550.json') as object), external_ids: ext });
    expect((await get(`${fake.url}/movie/348`, auth)).body).toEqual(fixture('movie-348.json'));
    expect((await get(`${fake.url}/movie/2501`, auth)).body).toEqual(fixture('movie-2501.json'));
    const tv = await get(`${fake.url}/tv/1399?append_to_response=external_ids`, auth);
    expect(tv.body).toEqual(fixture('tv-1399-append-external_ids.json'));

    const recordedItems = (fixture('discover-movie-page1.json') as Page).results;
    const page = (await get(`${fake.url}/discover/movie`, auth)).body as Page;
    // 20 recorded discover items + 550, 348, 2501 (recorded) + 2502, 2503, 49040, 324668 (constructed)
    expect(page.total_results).toBe(27);
    expect(page.results).toHaveLength(20);
    const page2 = (await get(`${fake.url}/discover/movie?page=2`, auth)).body as Page;
    expect(page2.results).toHaveLength(7);
    const thor = [...page.results, ...page2.results].find((r) => r.id === 616037);
    expect(thor).toEqual(recordedItems.find((r) => r.id === 616037));
    expect(fake.titles('movie').map((t) => t.id)).toEqual(expect.arrayContaining([550, 348, 2501, 2502, 49040, 616037]));
    const bourne = (await get(`${fake.url}/search/movie?query=bourne`, auth)).body as Page;
    expect(bourne.results.map((r) => r.id as number).sort((a, b) => a - b)).toEqual([2501, 2502, 2503, 49040, 324668]);
    const found = (await get(`${fake.url}/find/tt0258463?external_source=imdb_id`, auth)).body as { movie_results: { id: number }[] };
    expect(found.movie_results.map((r) => r.id)).toEqual([2501]);
    expect((await get(`${fake.url}/search/movie?query=`, auth)).status).toBe(422);
    const tvPage = (await get(`${fake.url}/discover/tv`, auth)).body as Page;
    expect(tvPage.total_results).toBe(20);
  });
});

describe('fake TMDB: daily ID exports and the changes feed', () => {
  let fake: FakeTmdb;
  const sample = readFileSync(path.join(fixturesDir, 'movie-ids-export-sample.jsonl'), 'utf8').trim().split('\n');
  beforeAll(async () => {
    fake = await startFakeTmdb({
      exports: { [exportFileName('movie', '2026-11-21')]: () => sample },
      changes: {
        movie: [
          { id: 5, date: daysAgo(20) },
          { id: 6, date: daysAgo(3), adult: true },
          { id: 5, date: daysAgo(2) },
          ...Array.from({ length: 150 }, (_, i) => ({ id: 1_000 + i, date: daysAgo(1) })),
        ],
      },
    });
  });
  afterAll(async () => {
    await fake.close();
  });

  it('serves an export as gzip JSON Lines without a credential, and 404 for a missing date', async () => {
    const res = await fetch(`${fake.filesUrl}/p/exports/movie_ids_11_21_2026.json.gz`);
    expect(res.status).toBe(200);
    const text = gunzipSync(Buffer.from(await res.arrayBuffer())).toString('utf8');
    expect(text).toBe(`${sample.join('\n')}\n`);
    expect((await fetch(`${fake.filesUrl}/p/exports/movie_ids_11_20_2026.json.gz`)).status).toBe(404);
    expect(fake.stats().exportRequests).toEqual([
      { method: 'GET', file: 'movie_ids_11_21_2026.json.gz', status: 200 },
      { method: 'GET', file: 'movie_ids_11_20_2026.json.gz', status: 404 },
    ]);
    expect(fake.stats().exportLinesServed).toBe(sample.length);
  });

  it('lists distinct changed ids 100 a page and refuses a range over 14 days with status_code 20', async () => {
    const q = (start: number, end: number, page = 1) =>
      `${fake.url}/movie/changes?start_date=${daysAgo(start)}&end_date=${daysAgo(end)}&page=${page}`;
    const first = (await get(q(14, 0))).body as Page;
    expect(first).toMatchObject({ page: 1, total_results: 152, total_pages: 2 });
    expect(first.results).toHaveLength(100);
    expect(first.results[0]).toEqual({ id: 5, adult: false });
    expect(first.results[1]).toEqual({ id: 6, adult: true });
    expect(((await get(q(14, 0, 2))).body as Page).results).toHaveLength(52);
    const tooLong = await get(q(15, 0));
    expect(tooLong.status).toBe(422);
    expect(tooLong.body).toEqual(fixture('error-422-invalid-date-range.json'));
    expect(((await get(q(20, 20))).body as Page).results).toEqual([{ id: 5, adult: false }]);
    expect((await get(`${fake.url}/movie/changes?start_date=2024-1-1&end_date=2024-01-02`)).status).toBe(400);
  });
});

describe('fake TMDB: undated titles and pages that fail for good', () => {
  let fake: FakeTmdb;
  beforeAll(async () => {
    fake = await startFakeTmdb({
      movie: { count: 400, from: '2015-01-01', to: '2015-12-31', undated: 30 },
      tv: { count: 400, from: '2015-01-01', to: '2015-12-31', undated: 30 },
      failingPages: [{ kind: 'movie', page: 3, where: { 'primary_release_date.gte': '2015-01-01' } }],
    });
  });
  afterAll(async () => {
    await fake.close();
  });
  const total = async (kind: string, query: string) => ((await get(`${fake.url}/discover/${kind}?${query}`)).body as Page).total_results;

  it('counts undated titles in an unfiltered query, excludes them from any date filter', async () => {
    const undated = (kind: 'movie' | 'tv') => fake.titles(kind).filter((t) => t.date === '');
    expect(undated('movie')).toHaveLength(30);
    expect(undated('tv')).toHaveLength(30);
    expect(await total('movie', 'page=1')).toBe(430);
    expect(await total('tv', 'page=1')).toBe(430);
    expect(await total('movie', 'primary_release_date.gte=1870-01-01')).toBe(400);
    expect(await total('movie', 'primary_release_date.lte=2100-12-31')).toBe(400);
    expect(await total('tv', 'first_air_date.gte=1870-01-01&first_air_date.lte=2100-12-31')).toBe(400);
    // include_null_first_air_dates is a tv filter: it does not bring undated movies back.
    expect(await total('movie', 'primary_release_date.lte=2100-12-31&include_null_first_air_dates=true')).toBe(400);
  });

  it('adds undated tv titles to a date filter with include_null_first_air_dates=true, paging through both', async () => {
    expect(await total('tv', 'first_air_date.lte=1869-12-31&include_null_first_air_dates=true')).toBe(30);
    expect(await total('tv', 'first_air_date.lte=1869-12-31&include_null_first_air_dates=false')).toBe(0);
    const q = 'first_air_date.gte=2015-01-01&first_air_date.lte=2015-01-31&include_null_first_air_dates=true';
    const january = fake.titles('tv').filter((t) => t.date >= '2015-01-01' && t.date <= '2015-01-31');
    const want = [...fake.titles('tv').filter((t) => t.date === ''), ...january].map((t) => t.id);
    expect(await total('tv', q)).toBe(want.length);
    const got: number[] = [];
    for (let page = 1; page <= Math.ceil(want.length / 20); page++) {
      got.push(...((await get(`${fake.url}/discover/tv?${q}&page=${page}`)).body as Page).results.map((r) => r.id as number));
    }
    expect(got).toEqual(want);
  });

  it('answers 500 for good on a listed page of a matching query, and only there', async () => {
    const q = 'primary_release_date.gte=2015-01-01&primary_release_date.lte=2015-12-31';
    for (let i = 0; i < 3; i++) {
      const failed = await get(`${fake.url}/discover/movie?${q}&page=3`);
      expect(failed.status).toBe(500);
      expect((failed.body as { status_code: number }).status_code).toBe(11);
    }
    expect((await get(`${fake.url}/discover/movie?${q}&page=2`)).status).toBe(200);
    expect((await get(`${fake.url}/discover/movie?page=3`)).status).toBe(200);
    expect((await get(`${fake.url}/discover/tv?first_air_date.gte=2015-01-01&page=3`)).status).toBe(200);
    fake.configure({ failingPages: [] });
    expect((await get(`${fake.url}/discover/movie?${q}&page=3`)).status).toBe(200);
  });
});
