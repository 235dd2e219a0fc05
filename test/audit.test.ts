/**
 * The audit's verdict, for every kind of run (pure: `runs/verdict.ts` buildAudit): complete
 * only without a shortfall; every shortfall one line with its counts; what is not a shortfall
 * (404s, unmatched IMDB ids, skipped files and copies) stays out; lists capped, counts exact.
 */
import { describe, expect, it } from 'vitest';
import { buildAudit, type AuditInput } from '../src/runs/verdict.js';
import { AUDIT_LIST_CAP, type RunSummary } from '../src/runs/types.js';

const base: RunSummary = {
  runId: 'movie-20260101T000000-abcd',
  kind: 'movie',
  state: 'completed',
  error: undefined,
  params: { kind: 'movie', from: '2024-01-01', to: '2024-01-31', params: {} },
  createdAt: '2026-01-01T00:00:00.000Z',
  finishedAt: undefined,
  expected: 100,
  discovered: 100,
  fetched: 97,
  notFound: 3,
  failed: 0,
  pagesPlanned: 5,
  pagesDone: 5,
  pagesFailed: 0,
  objects: 1,
  records: 97,
  uncovered: 0,
  unmatched: 0,
};
const W = '2024-01-01_2024-01-31';
const input = (patch: Partial<AuditInput> = {}, summary: Partial<RunSummary> = {}): AuditInput => ({
  summary: { ...base, ...summary },
  coverage: { rootTotal: 100, leaves: [{ window: W, total: 100, returned: 100, discovered: 100 }], lostWindows: [], undated: 0 },
  failedPages: [],
  failedLookups: [],
  failedIds: [],
  ...patch,
});

describe('a backfill', () => {
  it('is complete when everything TMDB listed was discovered and every fetched title written (404s are no shortfall)', () => {
    const audit = buildAudit(input());
    expect(audit).toMatchObject({ verdict: 'complete', shortfalls: [], written: { fetched: 97, records: 97 } });
    expect(audit.coverage).toMatchObject({ rootTotal: 100, leafTotal: 100, reachable: 100, unreached: 0, shortLeaves: [] });
  });

  it('is partial when the objects hold fewer records than were fetched', () => {
    const audit = buildAudit(input({}, { records: 96 }));
    expect(audit.verdict).toBe('partial');
    expect(audit.shortfalls).toEqual(['97 titles fetched but the run\'s objects hold 96 records']);
  });

  it('counts titles past the page cap, and the part of the root no leaf reaches, once each', () => {
    const audit = buildAudit(
      input({
        coverage: {
          rootTotal: 10_080,
          leaves: [{ window: W, total: 10_050, returned: 10_000, discovered: 10_000 }],
          lostWindows: [],
          undated: 0,
        },
      }),
    );
    expect(audit.coverage).toMatchObject({ beyondCap: 50, unreached: 30, shortLeaves: [] });
    expect(audit.shortfalls).toEqual([
      "50 titles beyond TMDB's 500-page cap in windows no filter can split (see uncoveredWindows)",
      '30 of the 10080 titles TMDB counts for the whole query are in no leaf window (lost windows, or the catalog changed during the run)',
    ]);
  });

  it('says what a cancelled run left undone', () => {
    const audit = buildAudit(input({}, { state: 'cancelled', pagesDone: 3, fetched: 50, records: 50, notFound: 0 }));
    expect(audit.shortfalls).toEqual([
      '2 listing pages planned but never finished (the run was cancelled)',
      '50 discovered titles never fetched (the run was cancelled)',
    ]);
  });

  it(`caps its lists at ${AUDIT_LIST_CAP} and keeps the counts exact`, () => {
    const ids = Array.from({ length: 1_500 }, (_, i) => i + 1);
    const pages = ids.map((page) => ({ window: W, page }));
    const audit = buildAudit(input({ failedIds: ids, failedPages: pages }, { failed: 1_500, pagesPlanned: 2_000, pagesFailed: 1_500 }));
    expect(audit.titles?.failedIds).toHaveLength(AUDIT_LIST_CAP);
    expect(audit.pages.failedPages).toHaveLength(AUDIT_LIST_CAP);
    expect(audit.titles?.failed).toBe(1_500);
    expect(audit.pages.failed).toBe(1_500);
    expect(audit.shortfalls).toContain(`1500 titles failed for good: 1, 2, 3, 4, 5, … (1495 more in the audit)`);
  });
});

describe('other runs', () => {
  it('an enrich run: unmatched IMDB ids are no shortfall; a failed lookup is, by IMDB id', () => {
    const enrich = { params: { kind: 'movie' as const, source: 'enrich' as const, params: {} }, unmatched: 4 };
    expect(buildAudit(input({ coverage: undefined }, enrich)).verdict).toBe('complete');
    const audit = buildAudit(input({ coverage: undefined, failedLookups: ['tt0000001'] }, { ...enrich, pagesFailed: 1 }));
    expect(audit.pages).toMatchObject({ failed: 1, failedLookups: ['tt0000001'] });
    expect(audit.shortfalls).toEqual(['1 of 5 IMDB lookups failed for good: tt0000001']);
  });

  it('an upload: a skipped file is no shortfall, a failed one is, by name', () => {
    const summary = { kind: 'upload' as const, params: { kind: 'upload' as const, params: {} }, pagesPlanned: 2, pagesDone: 2, fetched: 0, records: 0, discovered: 0, notFound: 0 };
    const file = { key: 'k', bytes: 1, sha256: 'x', checksum: '' };
    const ok = buildAudit({ ...input({ coverage: undefined }, summary), files: [{ ...file, name: 'a.csv', status: 'uploaded' }, { ...file, name: 'b.csv', status: 'skipped' }] });
    expect(ok).toMatchObject({ verdict: 'complete', files: { planned: 2, uploaded: 1, skipped: 1, failed: 0 } });
    expect(ok).not.toHaveProperty('titles');
    const bad = buildAudit({
      ...input({ coverage: undefined }, { ...summary, pagesFailed: 1 }),
      files: [{ ...file, name: 'a.csv', status: 'uploaded' }, { ...file, name: 'b.csv', status: 'failed', error: 'line 3 is ragged' }],
    });
    expect(bad).toMatchObject({ verdict: 'partial', files: { failed: 1, failedFiles: ['b.csv'] } });
    expect(bad.shortfalls).toEqual(['1 file not uploaded: b.csv (line 3 is ragged)']);
  });

  it('a sync: a failed copy is a shortfall, by source key', () => {
    const summary = { kind: 'sync' as const, params: { kind: 'sync' as const, params: {} }, fetched: 0, records: 0, discovered: 0, notFound: 0 };
    const copy = { destination: 'd', size: 1, etag: 'e' };
    const audit = buildAudit({
      ...input({ coverage: undefined }, { ...summary, pagesFailed: 1 }),
      copies: [{ ...copy, source: 'a', status: 'copied' }, { ...copy, source: 'b', status: 'failed', reason: 'AccessDenied' }],
    });
    expect(audit).toMatchObject({ verdict: 'partial', copies: { copied: 1, skipped: 0, failed: 1, failedKeys: ['b'] } });
    expect(audit.shortfalls).toEqual(['1 copy failed: b (AccessDenied)']);
  });
});
