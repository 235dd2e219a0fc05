/**
 * Pure statistics of a run's titles for `tmdb-fleet report`: means, revenue and budget by
 * release year, the top-grossing title against the biggest budget, and Pearson correlations.
 *
 * Rules (README "Reporting on a run"):
 * - Money is USD, as TMDB reports it (`budget`, `revenue`, whole dollars).
 * - TMDB uses `0` for an unknown budget or revenue (API-NOTES §6). A zero is excluded from every
 *   mean, total, correlation and from the top-grossing / biggest-budget comparison, and counted as
 *   excluded. A missing field (`null` here: TV documents have no budget or revenue) is neither a
 *   value nor a zero: the figure is "not applicable", never 0.
 * - A title's release year is the year of `release_date` (movie) or `first_air_date` (tv); an
 *   empty or missing date counts towards `unknownYear` and is left out of by-year figures and the
 *   popularity/year correlation.
 *
 * The arithmetic (mean, sum, Pearson r) is simple-statistics'; this module decides what goes in.
 */
import { max, mean as ssMean, min, sampleCorrelation, sum } from 'simple-statistics';

/** The few numeric fields kept per title (one per document of the run). */
export interface ReportRow {
  /** TMDB id. */
  id: number;
  /** Release (first-air) year, or null when the document's date is empty or missing. */
  year: number | null;
  /** Budget in USD; 0 = unknown (TMDB); null = the document has no budget field (tv). */
  budget: number | null;
  /** Revenue in USD; 0 = unknown (TMDB); null = the document has no revenue field (tv). */
  revenue: number | null;
  /** TMDB popularity score (unitless), or null when missing. */
  popularity: number | null;
}

/** A Pearson correlation coefficient and the number of pairs it was computed from. */
export interface Correlation {
  /** r in [-1, 1]; null when n < 2 or either series has zero variance. */
  r: number | null;
  /** Number of (x, y) pairs used. */
  n: number;
}

/**
 * Pearson product-moment correlation of two equally long series, by simple-statistics'
 * `sampleCorrelation`, defined here also where the library's answer is not (n < 2 throws there,
 * a constant series gives NaN).
 * @returns r and n; r is null when fewer than 2 pairs or a series is constant.
 * @throws RangeError when the series differ in length.
 */
export function pearson(x: readonly number[], y: readonly number[]): Correlation {
  if (x.length !== y.length) throw new RangeError(`pearson: series lengths differ (${x.length} vs ${y.length})`);
  const n = x.length;
  if (n < 2 || isConstant(x) || isConstant(y)) return { r: null, n };
  const r = sampleCorrelation(x, y);
  if (!Number.isFinite(r)) return { r: null, n };
  return { r: Math.max(-1, Math.min(1, r)), n };
}

/** Whether every value of a non-empty series is the same (its variance is exactly zero). */
function isConstant(values: readonly number[]): boolean {
  return min(values) === max(values);
}

/** Arithmetic mean by simple-statistics, or null for no values. */
export function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : ssMean(values);
}

/** A money measure (budget or revenue) over a set of titles, zeros excluded. */
export interface MoneyStat {
  /** Mean in USD over the titles with a non-zero value; null when there is none (or n/a). */
  mean: number | null;
  /** Sum in USD over the titles with a non-zero value. */
  total: number;
  /** Titles with a non-zero value (the mean's n). */
  n: number;
  /** Titles whose value is 0 (TMDB: unknown), left out of mean and total. */
  excludedZero: number;
  /** Titles whose document has no such field at all (tv): not applicable, not zero. */
  missing: number;
}

/** Mean/total/n of one money field over rows, zeros and missing fields excluded and counted. */
export function moneyStat(rows: readonly ReportRow[], field: 'budget' | 'revenue'): MoneyStat {
  const values: number[] = [];
  let excludedZero = 0;
  let missing = 0;
  for (const row of rows) {
    const v = row[field];
    if (v === null) missing++;
    else if (v === 0) excludedZero++;
    else values.push(v);
  }
  return { mean: mean(values), total: sum(values), n: values.length, excludedZero, missing };
}

/** Revenue and budget of the titles released in one year. */
export interface YearStat {
  year: number;
  /** Titles released that year (all of them, zeros included). */
  titles: number;
  revenue: MoneyStat;
  budget: MoneyStat;
}

/**
 * Groups rows by release year (ascending); rows with no year are counted separately.
 * @returns the years that have at least one title, and how many titles had no year.
 */
export function byYear(rows: readonly ReportRow[]): { years: YearStat[]; unknownYear: number } {
  const groups = new Map<number, ReportRow[]>();
  let unknownYear = 0;
  for (const row of rows) {
    if (row.year === null) {
      unknownYear++;
      continue;
    }
    let g = groups.get(row.year);
    if (!g) groups.set(row.year, (g = []));
    g.push(row);
  }
  const years = [...groups.entries()]
    .sort(([a], [b]) => a - b)
    .map(([year, g]) => ({ year, titles: g.length, revenue: moneyStat(g, 'revenue'), budget: moneyStat(g, 'budget') }));
  return { years, unknownYear };
}

/** One title in the top-grossing / biggest-budget comparison. */
export interface MoneyTitle {
  id: number;
  /** Title (movie) or name (tv) when known to the caller. */
  title: string | undefined;
  year: number | null;
  /** USD; 0 = unknown. */
  revenue: number;
  /** USD; 0 = unknown. */
  budget: number;
}

/** The top-grossing title against the title with the biggest budget. */
export interface TopVsBiggest {
  /** Highest non-zero revenue (ties: lowest id). */
  topGrossing: MoneyTitle;
  /** Highest non-zero budget (ties: lowest id). */
  biggestBudget: MoneyTitle;
  /** Whether both are the same title. */
  sameTitle: boolean;
  /**
   * How much the top gross exceeds (positive) or falls short of (negative) the biggest budget,
   * in % of the biggest budget: `(topGrossing.revenue − biggestBudget.budget) / biggestBudget.budget × 100`.
   */
  differencePct: number;
  /** Titles left out because their revenue or budget was 0 (unknown). */
  excludedZeroRevenue: number;
  excludedZeroBudget: number;
}

/**
 * Finds the top-grossing title and the title with the biggest budget, zeros excluded.
 * @param names - titles by id (only those of the winners are needed).
 * @returns undefined when no title has both a non-zero revenue somewhere and a non-zero budget
 *   somewhere (e.g. tv runs, or a run whose money is all unknown).
 */
export function topVsBiggest(rows: readonly ReportRow[], names: ReadonlyMap<number, string> = new Map()): TopVsBiggest | undefined {
  let top: ReportRow | undefined;
  let big: ReportRow | undefined;
  let excludedZeroRevenue = 0;
  let excludedZeroBudget = 0;
  /** Whether `v` (of the row with id `id`) beats the leader's value `lead` (ties: lower id). */
  const beats = (v: number, id: number, leader: ReportRow | undefined, lead: number | null | undefined) =>
    leader === undefined || v > (lead ?? 0) || (v === lead && id < leader.id);
  for (const row of rows) {
    if (row.revenue === 0) excludedZeroRevenue++;
    if (row.budget === 0) excludedZeroBudget++;
    if (row.revenue !== null && row.revenue > 0 && beats(row.revenue, row.id, top, top?.revenue)) top = row;
    if (row.budget !== null && row.budget > 0 && beats(row.budget, row.id, big, big?.budget)) big = row;
  }
  if (!top || !big) return undefined;
  const asTitle = (r: ReportRow): MoneyTitle => ({
    id: r.id,
    title: names.get(r.id),
    year: r.year,
    revenue: r.revenue ?? 0,
    budget: r.budget ?? 0,
  });
  const topGrossing = asTitle(top);
  const biggestBudget = asTitle(big);
  return {
    topGrossing,
    biggestBudget,
    sameTitle: top.id === big.id,
    differencePct: ((topGrossing.revenue - biggestBudget.budget) / biggestBudget.budget) * 100,
    excludedZeroRevenue,
    excludedZeroBudget,
  };
}

/** A correlation over the titles that have both values, with how many were left out. */
export interface CorrelationStat extends Correlation {
  /** Titles left out: zero (unknown) revenue, no year, or no popularity. */
  excluded: number;
}

/** Pearson r of popularity against revenue, over titles with a non-zero revenue and a popularity. */
export function popularityVsRevenue(rows: readonly ReportRow[]): CorrelationStat {
  const x: number[] = [];
  const y: number[] = [];
  for (const row of rows) {
    if (row.popularity !== null && row.revenue !== null && row.revenue > 0) {
      x.push(row.popularity);
      y.push(row.revenue);
    }
  }
  return { ...pearson(x, y), excluded: rows.length - x.length };
}

/** Pearson r of popularity against release year, over titles with a year and a popularity. */
export function popularityVsYear(rows: readonly ReportRow[]): CorrelationStat {
  const x: number[] = [];
  const y: number[] = [];
  for (const row of rows) {
    if (row.popularity !== null && row.year !== null) {
      x.push(row.popularity);
      y.push(row.year);
    }
  }
  return { ...pearson(x, y), excluded: rows.length - x.length };
}

/**
 * Plain-words strength of a correlation (|r| < 0.1 none, < 0.3 weak, < 0.5 moderate, else
 * strong; Cohen's conventions), or "undefined" when r could not be computed.
 */
export function correlationStrength(r: number | null): string {
  if (r === null) return 'undefined';
  const a = Math.abs(r);
  const dir = r > 0 ? 'positive' : 'negative';
  if (a < 0.1) return 'none';
  if (a < 0.3) return `weak ${dir}`;
  if (a < 0.5) return `moderate ${dir}`;
  return `strong ${dir}`;
}

/** Everything `tmdb-fleet report` says about a run's titles. */
export interface RunStats {
  /** Titles (documents) read from the run's objects. */
  titles: number;
  /**
   * Whether the documents carry budget and revenue at all. False for tv runs (TMDB's /tv/{id}
   * has neither field): money figures are then not applicable rather than zero.
   */
  hasMoney: boolean;
  revenue: MoneyStat;
  budget: MoneyStat;
  years: YearStat[];
  /** Titles with an empty or missing release (first-air) date. */
  unknownYear: number;
  /** Undefined when no title has a known revenue and a known budget. */
  topVsBiggest: TopVsBiggest | undefined;
  correlations: { popularityRevenue: CorrelationStat; popularityYear: CorrelationStat };
}

/** Computes every statistic of the report from the compact rows of a run. */
export function computeRunStats(rows: readonly ReportRow[], names: ReadonlyMap<number, string> = new Map()): RunStats {
  const { years, unknownYear } = byYear(rows);
  return {
    titles: rows.length,
    hasMoney: rows.some((r) => r.revenue !== null || r.budget !== null),
    revenue: moneyStat(rows, 'revenue'),
    budget: moneyStat(rows, 'budget'),
    years,
    unknownYear,
    topVsBiggest: topVsBiggest(rows, names),
    correlations: { popularityRevenue: popularityVsRevenue(rows), popularityYear: popularityVsYear(rows) },
  };
}
