/**
 * Window planning: a split covers its parent exactly (every day, and every vote_count value
 * of a single day, in exactly one half), and a discover query carries the window's filters.
 */
import { describe, expect, it } from 'vitest';
import { EARLIEST_DATE, changesWindows, discoverQuery, latestDate, splitChangesWindow, splitWindow, undatedWindow, type Window } from '../src/tmdb/windows.js';
import type { RunParams } from '../src/runs/types.js';
import { mulberry32 } from '../src/sandbox/prng.js';

const DAY_MS = 86_400_000;
const toDay = (date: string) => Date.parse(`${date}T00:00:00Z`) / DAY_MS;
const fromDay = (day: number) => new Date(day * DAY_MS).toISOString().slice(0, 10);


const contains = (w: Window, day: number) => toDay(w.from ?? '') <= day && day <= toDay(w.to ?? '');
const NOW = new Date('2025-06-15T12:00:00Z');

describe('splitWindow by date', () => {
  it('covers every day of the parent exactly once, over many random windows', () => {
    const rand = mulberry32(20240229);
    const first = toDay('1870-01-01');
    const last = toDay('2045-12-31');
    for (let i = 0; i < 400; i++) {
      // Mostly short windows (every day is checked), sometimes long ones.
      const maxLen = i % 10 === 0 ? 20_000 : 400;
      const a = first + Math.floor(rand() * (last - first));
      const b = Math.min(last, a + 1 + Math.floor(rand() * maxLen));
      const vote = i % 3 === 0 ? { voteMin: 5, voteMax: 90 } : {};
      const parent: Window = { from: fromDay(a), to: fromDay(b), ...vote };
      const halves = splitWindow(parent, NOW);
      expect(halves, JSON.stringify(parent)).toBeDefined();
      const [lo, hi] = halves!;
      for (let d = a; d <= b; d++) {
        const inLo = contains(lo, d);
        const inHi = contains(hi, d);
        if (inLo === inHi) throw new Error(`${fromDay(d)} is in ${inLo ? 'both' : 'neither'} half of ${JSON.stringify(parent)}`);
      }
      // Nothing outside the parent, neither half empty, vote bounds kept.
      expect(lo.from).toBe(parent.from);
      expect(hi.to).toBe(parent.to);
      expect(toDay(lo.to!) + 1).toBe(toDay(hi.from!));
      expect(toDay(lo.from!)).toBeLessThanOrEqual(toDay(lo.to!));
      expect(toDay(hi.from!)).toBeLessThanOrEqual(toDay(hi.to!));
      expect([lo.voteMin, lo.voteMax, hi.voteMin, hi.voteMax]).toEqual([vote.voteMin, vote.voteMax, vote.voteMin, vote.voteMax]);
    }
  });

  it('halves a two-day window into its two days', () => {
    expect(splitWindow({ from: '2024-02-28', to: '2024-02-29' }, NOW)).toEqual([
      { from: '2024-02-28', to: '2024-02-28' },
      { from: '2024-02-29', to: '2024-02-29' },
    ]);
  });

  it('fills an open window with the earliest and latest dates', () => {
    const [lo, hi] = splitWindow({}, NOW)!;
    expect(lo.from).toBe(EARLIEST_DATE);
    expect(hi.to).toBe(latestDate(NOW));
    expect(toDay(lo.to!) + 1).toBe(toDay(hi.from!));
  });

  it('reaches single days by repeated splitting, each day exactly once', () => {
    const leaves: string[] = [];
    const pending: Window[] = [{ from: '2023-12-20', to: '2024-01-10' }];
    while (pending.length > 0) {
      const w = pending.pop()!;
      if (w.from === w.to) leaves.push(w.from!);
      else pending.push(...splitWindow(w, NOW)!);
    }
    const expected = Array.from({ length: 22 }, (_, i) => fromDay(toDay('2023-12-20') + i));
    expect(leaves.sort()).toEqual(expected);
  });
});

describe('splitWindow of a single day by vote_count', () => {
  const day = { from: '2024-05-01', to: '2024-05-01' };

  it('first splits into [0,0] and [1,∞)', () => {
    expect(splitWindow(day, NOW)).toEqual([
      { ...day, voteMin: 0, voteMax: 0 },
      { ...day, voteMin: 1 },
    ]);
  });

  it('keeps splitting an open range into a bounded half and an open half that starts right after it', () => {
    const [lo, hi] = splitWindow({ ...day, voteMin: 1 }, NOW)!;
    expect(lo).toMatchObject({ ...day, voteMin: 1 });
    expect(lo.voteMax).toBeGreaterThanOrEqual(1);
    expect(hi).toEqual({ ...day, voteMin: lo.voteMax! + 1 });
  });

  it.each([
    [0, 10],
    [1, 2],
    [7, 1000],
    [50, 51],
  ])('splits a bounded range [%i,%i] into two halves covering each value once', (voteMin, voteMax) => {
    const [lo, hi] = splitWindow({ ...day, voteMin, voteMax }, NOW)!;
    for (const w of [lo, hi]) expect(w).toMatchObject(day);
    expect(lo.voteMin).toBe(voteMin);
    expect(hi.voteMax).toBe(voteMax);
    expect(lo.voteMax! + 1).toBe(hi.voteMin);
    expect(lo.voteMin!).toBeLessThanOrEqual(lo.voteMax!);
    expect(hi.voteMin!).toBeLessThanOrEqual(hi.voteMax!);
  });

  it('a single day with only vote_count.lte splits [0,lte]', () => {
    const [lo, hi] = splitWindow({ ...day, voteMax: 9 }, NOW)!;
    expect([lo.voteMin, lo.voteMax, hi.voteMin, hi.voteMax]).toEqual([0, 4, 5, 9]);
  });

  it.each([0, 1, 123])('returns undefined for a single day with the single vote value %i', (v) => {
    expect(splitWindow({ ...day, voteMin: v, voteMax: v }, NOW)).toBeUndefined();
  });

  it('terminates: repeated splitting of a bounded single day ends in single values, each once', () => {
    const values: number[] = [];
    const pending: Window[] = [{ ...day, voteMin: 3, voteMax: 40 }];
    while (pending.length > 0) {
      const w = pending.pop()!;
      const halves = splitWindow(w, NOW);
      if (halves) pending.push(...halves);
      else values.push(w.voteMin!);
    }
    expect(values.sort((a, b) => a - b)).toEqual(Array.from({ length: 38 }, (_, i) => 3 + i));
  });
});

describe('discoverQuery', () => {
  const movie: RunParams = { kind: 'movie', params: { with_genres: '28', with_original_language: 'fr' } };
  const tv: RunParams = { kind: 'tv', params: { with_networks: '213' } };
  const w: Window = { from: '2024-01-01', to: '2024-01-31', voteMin: 3, voteMax: 17 };

  it('puts primary_release_date bounds, vote_count bounds, page and user filters for movie', () => {
    const q = discoverQuery(movie, w, 7);
    expect(q).toMatchObject({
      'primary_release_date.gte': '2024-01-01',
      'primary_release_date.lte': '2024-01-31',
      'vote_count.gte': '3',
      'vote_count.lte': '17',
      page: '7',
      with_genres: '28',
      with_original_language: 'fr',
    });
    expect(q).not.toHaveProperty('first_air_date.gte');
    expect(q).not.toHaveProperty('first_air_date.lte');
  });

  it('puts first_air_date bounds for tv', () => {
    const q = discoverQuery(tv, w, 1);
    expect(q).toMatchObject({
      'first_air_date.gte': '2024-01-01',
      'first_air_date.lte': '2024-01-31',
      'vote_count.gte': '3',
      'vote_count.lte': '17',
      page: '1',
      with_networks: '213',
    });
    expect(q).not.toHaveProperty('primary_release_date.gte');
    expect(q).not.toHaveProperty('primary_release_date.lte');
  });

  it('sends no date or vote bound the window does not have', () => {
    const q = discoverQuery({ kind: 'movie', params: {} }, {}, 1);
    expect(Object.keys(q).filter((k) => k.includes('date.') || k.startsWith('vote_count'))).toEqual([]);
    expect(q.page).toBe('1');
  });

  it('sends a vote_count.gte of 0 (a lower bound of zero is still a bound)', () => {
    expect(discoverQuery({ kind: 'tv', params: {} }, { voteMin: 0, voteMax: 0 }, 2)).toMatchObject({
      'vote_count.gte': '0',
      'vote_count.lte': '0',
    });
  });

  it('lets the window, not the user filter, decide vote_count bounds', () => {
    const params: RunParams = { kind: 'movie', params: { 'vote_count.gte': '10' } };
    expect(discoverQuery(params, { voteMin: 25, voteMax: 30 }, 1)).toMatchObject({
      'vote_count.gte': '25',
      'vote_count.lte': '30',
    });
  });
});

describe('changesWindows', () => {
  it('cuts a range into consecutive windows of at most 14 days that cover it exactly', () => {
    expect(changesWindows('2024-01-01', '2024-01-21')).toEqual([
      { from: '2024-01-01', to: '2024-01-14' },
      { from: '2024-01-15', to: '2024-01-21' },
    ]);
    expect(changesWindows('2024-02-28', '2024-02-28')).toEqual([{ from: '2024-02-28', to: '2024-02-28' }]);
    const long = changesWindows('2023-12-25', '2024-03-10');
    expect(long[0]?.from).toBe('2023-12-25');
    expect(long.at(-1)?.to).toBe('2024-03-10');
    for (const [i, w] of long.entries()) {
      const days = (Date.parse(`${w.to}T00:00:00Z`) - Date.parse(`${w.from}T00:00:00Z`)) / 86_400_000 + 1;
      expect(days).toBeGreaterThan(0);
      expect(days).toBeLessThanOrEqual(14);
      const next = long[i + 1];
      if (next) expect(Date.parse(`${next.from}T00:00:00Z`) - Date.parse(`${w.to}T00:00:00Z`)).toBe(86_400_000);
    }
  });

  it('splits a crowded changes window by date only', () => {
    expect(splitChangesWindow({ from: '2024-01-01', to: '2024-01-14' })).toEqual([
      { from: '2024-01-01', to: '2024-01-07' },
      { from: '2024-01-08', to: '2024-01-14' },
    ]);
    expect(splitChangesWindow({ from: '2024-01-01', to: '2024-01-01' })).toBeUndefined();
  });
});

describe('the undated window (tv titles without a first-air date)', () => {
  const tvAll: RunParams = { kind: 'tv', params: {} };

  it('is added to the split of a tv root without dates, keeping its vote bounds', () => {
    expect(undatedWindow(tvAll, {})).toEqual({ undated: true });
    const voted: RunParams = { kind: 'tv', params: { 'vote_count.gte': '5' } };
    expect(undatedWindow(voted, { voteMin: 5 })).toEqual({ undated: true, voteMin: 5 });
  });

  it.each<[string, RunParams, Window]>([
    ['a movie root (discover cannot ask for undated movies)', { kind: 'movie', params: {} }, {}],
    ['a tv run with --from (TMDB counts no undated title in it)', { kind: 'tv', from: '2020-01-01', params: {} }, { from: '2020-01-01' }],
    ['a tv run with --to', { kind: 'tv', to: '2020-01-01', params: {} }, { to: '2020-01-01' }],
    ['a dated window below the root', tvAll, { from: '1870-01-01', to: '1950-01-01' }],
    ['the undated window itself', tvAll, { undated: true }],
    ['a search', { kind: 'tv', source: 'search', params: { query: 'x' } }, {}],
  ])('is not added for %s', (_label, params, w) => {
    expect(undatedWindow(params, w)).toBeUndefined();
  });

  it('queries a date no dated window covers plus include_null_first_air_dates=true', () => {
    const q = discoverQuery({ kind: 'tv', params: { with_networks: '213', include_null_first_air_dates: 'false' } }, { undated: true }, 3);
    expect(q).toMatchObject({ 'first_air_date.lte': '1869-12-31', include_null_first_air_dates: 'true', with_networks: '213', page: '3' });
    expect(q).not.toHaveProperty('first_air_date.gte');
    // The date windows start at EARLIEST_DATE: the undated window ends the day before, so no title is in both.
    expect(toDay(q['first_air_date.lte']!) + 1).toBe(toDay(EARLIEST_DATE));
    expect(discoverQuery({ kind: 'tv', params: {} }, { undated: true, voteMin: 0, voteMax: 0 }, 1)).toMatchObject({
      'vote_count.gte': '0',
      'vote_count.lte': '0',
    });
    expect(() => discoverQuery({ kind: 'movie', params: {} }, { undated: true }, 1)).toThrow(/undated/);
  });

  it('splits by vote_count only, staying undated, each vote value in exactly one part', () => {
    expect(splitWindow({ undated: true }, NOW)).toEqual([
      { undated: true, voteMin: 0, voteMax: 0 },
      { undated: true, voteMin: 1 },
    ]);
    const values: number[] = [];
    const pending: Window[] = [{ undated: true, voteMin: 2, voteMax: 30 }];
    while (pending.length > 0) {
      const w = pending.pop()!;
      expect(w.undated).toBe(true);
      expect(w.from ?? w.to).toBeUndefined();
      const halves = splitWindow(w, NOW);
      if (halves) pending.push(...halves);
      else values.push(w.voteMin!);
    }
    expect(values.sort((a, b) => a - b)).toEqual(Array.from({ length: 29 }, (_, i) => 2 + i));
  });
});
