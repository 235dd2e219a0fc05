/**
 * Every name the fleet builds is formatted and parsed by one function each; these round trips
 * would fail if a format and its parse drifted apart.
 */
import { describe, expect, it } from 'vitest';
import { formatJobId, parseJobId, type JobRef } from '../src/jobs/job-id.js';
import { formatPlanKey, parsePlanKey, type PlanItem } from '../src/jobs/plan-key.js';
import { copyJobId } from '../src/jobs/copy.js';
import { keysAtEnd, runKeys } from '../src/runs/keys.js';
import { newRunId, parseRunId } from '../src/runs/run-id.js';
import { parseWindowKey, windowKey, type Window } from '../src/tmdb/windows.js';

const runId = 'movie-20240102T030405-a1b2c3d4';
const windows: Window[] = [
  {},
  { from: '2024-01-01' },
  { to: '2024-12-31' },
  { from: '2024-01-01', to: '2024-01-01', voteMin: 0, voteMax: 0 },
  { from: '2024-01-01', to: '2024-01-01', voteMin: 11 },
  { from: '1999-02-03', to: '2000-04-05', voteMin: 3, voteMax: 17 },
  { undated: true },
  { undated: true, voteMin: 0, voteMax: 0 },
  { undated: true, voteMin: 7 },
];

describe('window keys', () => {
  it.each(windows)('round-trips %j', (w) => {
    expect(parseWindowKey(windowKey(w))).toEqual(w);
    expect(windowKey(w)).not.toMatch(/[.:#]/);
  });
  it('refuses what is not a window key', () => {
    expect(() => parseWindowKey('2024-01-01')).toThrow(/not a window key/);
    expect(() => parseWindowKey('undated_2024-01-01')).toThrow(/not a window key/);
  });
  it('names the undated window "undated" (never a date, so no dated window shares its key)', () => {
    expect(windowKey({ undated: true })).toBe('undated');
    expect(windowKey({ undated: true, voteMin: 1, voteMax: 2 })).toBe('undated_v1-2');
  });
});

describe('job ids', () => {
  const refs: JobRef[] = [
    ...windows.map((window, i): JobRef => ({ type: 'page', runId, window, page: i + 1 })),
    { type: 'find', runId, imdbId: 'tt0111161' },
    { type: 'title', runId, id: 550 },
    { type: 'full', runId, batch: 7 },
    { type: 'tail', runId, arm: 101 },
    { type: 'final', runId },
    { type: 'resume', runId, at: 1_700_000_000_000 },
    { type: 'file', runId, index: 0 },
    { type: 'copy', runId, digest: 'da39a3ee5e6b4b0d3255bfef95601890afd80709' },
  ];
  it.each(refs)('round-trips %j', (ref) => {
    const id = formatJobId(ref);
    expect(id).not.toContain(':');
    expect(parseJobId(id)).toEqual(ref);
  });
  it('gives every job type its own prefix (find and tail flush no longer share "f.")', () => {
    const prefixes = refs.map((r) => formatJobId(r).split('.')[0]);
    const byType = new Map(refs.map((r, i) => [r.type, prefixes[i]]));
    expect(new Set(byType.values()).size).toBe(byType.size);
  });
  it('keeps the ids in use: t.<run>.<id>, d.<run>.<window>.<page>, final.<run>', () => {
    expect(formatJobId({ type: 'title', runId, id: 550 })).toBe(`t.${runId}.550`);
    expect(formatJobId({ type: 'page', runId, window: { from: '2024-01-01', to: '2024-01-31' }, page: 3 })).toBe(
      `d.${runId}.2024-01-01_2024-01-31.3`,
    );
    expect(formatJobId({ type: 'final', runId })).toBe(`final.${runId}`);
  });
  it('names a copy by a digest of bucket, key and ETag', () => {
    const id = copyJobId({ runId, srcBucket: 'a', srcKey: 'dir/ü x+y.csv', etag: 'abc' });
    expect(parseJobId(id)).toMatchObject({ type: 'copy', runId });
    expect(copyJobId({ runId, srcBucket: 'a', srcKey: 'dir/ü x+y.csv', etag: 'abd' })).not.toBe(id);
  });
  it.each(['x.run.1', `t.${runId}`, `t.${runId}.abc`, `final.${runId}.9`, 'd.run.2024-01-01_end'])('refuses %s', (id) => {
    expect(() => parseJobId(id)).toThrow(/not a tmdb-fleet job id|not a window key/);
  });
});

describe('plan keys', () => {
  const items: PlanItem[] = [
    ...windows.map((window, i): PlanItem => ({ type: 'page', window, page: i + 1 })),
    { type: 'find', imdbId: 'tt0111161' },
    { type: 'file', name: 'movies #1.csv' },
    { type: 'copy', srcKey: 'deep/path/with # and spaces/ü.json' },
    { type: 'guard', guard: 'list' },
    { type: 'guard', guard: 'watch' },
    { type: 'guard', guard: 'csv' },
    { type: 'guard', guard: 'export' },
  ];
  it.each(items)('round-trips %j', (item) => {
    expect(parsePlanKey(formatPlanKey(item))).toEqual(item);
  });
  it.each(['nohash', '#1', 'start_end#0', 'start_end#x', 'guard#other'])('refuses %s', (key) => {
    expect(() => parsePlanKey(key)).toThrow(/not a plan key/);
  });
});

describe('run ids', () => {
  it.each(['movie', 'tv', 'upload', 'sync'] as const)('round-trips a %s run id', (kind) => {
    const at = new Date('2026-11-22T03:04:05.678Z');
    const id = newRunId(kind, at);
    expect(id).toMatch(new RegExp(`^${kind}-20261122T030405-[0-9a-f]{8}$`));
    expect(parseRunId(id)).toEqual({ kind, startedAt: new Date('2026-11-22T03:04:05Z') });
  });
  it.each(['film-20261122T030405-a1b2c3d4', 'movie-2026-11-22-a1b2c3d4', 'movie-20261122T030405', 'movie-20261122T030405-a1b2'])('refuses %s', (id) => {
    expect(() => parseRunId(id)).toThrow(/not a run id/);
  });
});

describe('run keys', () => {
  it('lists every key of a run once, under the run hash, in one hash-tag slot', () => {
    const keys = runKeys('{fleet}', runId);
    const all = Object.values(keys);
    expect(new Set(all).size).toBe(all.length);
    for (const k of all) expect(k.startsWith(`{fleet}:run:${runId}`)).toBe(true);
  });
  it('drops working state and keeps what the summary and manifest need when a run ends', () => {
    const keys = runKeys('{fleet}', runId);
    const { drop, keep } = keysAtEnd(keys);
    expect([...drop, ...keep].sort()).toEqual(Object.values(keys).sort());
    expect(keep).toEqual(expect.arrayContaining([keys.run, keys.objects, keys.leaves, keys.uncovered, keys.copies, keys.files]));
    expect(drop).toEqual(expect.arrayContaining([keys.staged, keys.claims, keys.batches, keys.fetched, keys.discovered]));
  });
});
