/**
 * Window planning: a split covers its parent exactly (every day, and every vote_count value
 * of a single day, in exactly one half), and a discover query carries the window's filters.
 */
import { describe, expect, it } from 'vitest';
import { EARLIEST_DATE, discoverQuery, latestDate, splitWindow } from '../src/windows.js';
import type { Window } from '../src/queues.js';
import type { RunParams } from '../src/runs.js';
import { mulberry32 } from './support/prng.js';

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
