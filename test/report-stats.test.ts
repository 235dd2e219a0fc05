/**
 * The report's arithmetic: Pearson against a known value, zero (unknown) exclusion, by-year
 * grouping, the top-grossing title against the biggest budget; plus the chart renders.
 */
import { describe, expect, it } from 'vitest';
import {
  byYear,
  computeRunStats,
  correlationStrength,
  mean,
  moneyStat,
  pearson,
  popularityVsRevenue,
  popularityVsYear,
  topVsBiggest,
  type ReportRow,
} from '../src/report/stats.js';
import { factsOf, yearOf } from '../src/report/read-run.js';
import { CHART_AXIS, chartData, renderRevenueBudgetSvg } from '../src/report/chart.js';

const row = (id: number, year: number | null, budget: number | null, revenue: number | null, popularity: number | null = 1): ReportRow => ({
  id,
  year,
  budget,
  revenue,
  popularity,
});

describe('pearson', () => {
  it('matches a known value and reports n', () => {
    const c = pearson([1, 2, 3, 4, 5], [2, 4, 5, 4, 5]);
    expect(c.n).toBe(5);
    // r = 6 / sqrt(10 * 6) = 0.774596...
    expect(c.r).toBeCloseTo(0.7745967, 6);
  });

  it('is 1 / -1 for exact linear relations and null when undefined', () => {
    expect(pearson([1, 2, 3], [10, 20, 30]).r).toBeCloseTo(1, 12);
    expect(pearson([1, 2, 3], [3, 2, 1]).r).toBeCloseTo(-1, 12);
    expect(pearson([1], [2])).toEqual({ r: null, n: 1 });
    expect(pearson([], [])).toEqual({ r: null, n: 0 });
    expect(pearson([1, 2, 3], [5, 5, 5])).toEqual({ r: null, n: 3 });
    expect(() => pearson([1, 2], [1])).toThrow(RangeError);
  });

  it('names the strength', () => {
    expect(correlationStrength(0.7746)).toBe('strong positive');
    expect(correlationStrength(-0.35)).toBe('moderate negative');
    expect(correlationStrength(0.2)).toBe('weak positive');
    expect(correlationStrength(0.05)).toBe('none');
    expect(correlationStrength(null)).toBe('undefined');
  });
});

describe('money and zero exclusion', () => {
  const rows = [row(1, 2000, 100, 300), row(2, 2000, 0, 500), row(3, 2001, 50, 0), row(4, null, 0, 0)];

  it('excludes zeros from means and totals, and counts them', () => {
    expect(mean([])).toBeNull();
    expect(moneyStat(rows, 'revenue')).toEqual({ mean: 400, total: 800, n: 2, excludedZero: 2, missing: 0 });
    expect(moneyStat(rows, 'budget')).toEqual({ mean: 75, total: 150, n: 2, excludedZero: 2, missing: 0 });
  });

  it('treats a missing field (tv) as not applicable, not as zero', () => {
    const tv = [row(10, 2011, null, null), row(11, null, null, null)];
    expect(moneyStat(tv, 'revenue')).toEqual({ mean: null, total: 0, n: 0, excludedZero: 0, missing: 2 });
    const stats = computeRunStats(tv);
    expect(stats.hasMoney).toBe(false);
    expect(stats.topVsBiggest).toBeUndefined();
    expect(stats.unknownYear).toBe(1);
  });

  it('excludes zeros from the popularity/revenue correlation', () => {
    const c = popularityVsRevenue([row(1, 2000, 1, 10, 1), row(2, 2000, 1, 20, 2), row(3, 2000, 1, 0, 3), row(4, 2000, 1, 30, 3)]);
    expect(c.n).toBe(3);
    expect(c.excluded).toBe(1);
    expect(c.r).toBeCloseTo(1, 12);
  });

  it('leaves titles without a year out of the popularity/year correlation', () => {
    const c = popularityVsYear([row(1, 2000, 0, 0, 1), row(2, 2002, 0, 0, 3), row(3, null, 0, 0, 9)]);
    expect(c).toMatchObject({ n: 2, excluded: 1 });
    expect(c.r).toBeCloseTo(1, 12);
  });
});

describe('by year', () => {
  it('groups ascending and counts unknown years', () => {
    const { years, unknownYear } = byYear([row(1, 2001, 10, 20), row(2, 1999, 0, 5), row(3, 2001, 30, 0), row(4, null, 1, 1)]);
    expect(unknownYear).toBe(1);
    expect(years.map((y) => y.year)).toEqual([1999, 2001]);
    expect(years[0]).toMatchObject({ titles: 1, revenue: { total: 5, n: 1 }, budget: { total: 0, n: 0, excludedZero: 1, mean: null } });
    expect(years[1]).toMatchObject({ titles: 2, revenue: { total: 20, n: 1, excludedZero: 1 }, budget: { total: 40, n: 2, mean: 20 } });
  });

  it('reads years from release_date / first_air_date; empty dates are unknown', () => {
    expect(yearOf('1999-10-15')).toBe(1999);
    expect(yearOf('')).toBeNull();
    expect(yearOf(null)).toBeNull();
    expect(factsOf({ id: 550, title: 'Fight Club', release_date: '1999-10-15', budget: 63000000, revenue: 100853753, popularity: 24.1 }, 'movie')).toEqual({
      id: 550,
      title: 'Fight Club',
      year: 1999,
      budget: 63000000,
      revenue: 100853753,
      popularity: 24.1,
    });
    expect(factsOf({ id: 1399, name: 'Game of Thrones', first_air_date: '2011-04-17', popularity: 5 }, 'tv')).toEqual({
      id: 1399,
      title: 'Game of Thrones',
      year: 2011,
      budget: null,
      revenue: null,
      popularity: 5,
    });
    expect(factsOf({ id: 1, release_date: '' }, 'movie').year).toBeNull();
  });
});

describe('top-grossing vs biggest budget', () => {
  it('compares the highest revenue with the highest budget in %, zeros excluded', () => {
    const rows = [row(1, 2000, 200, 0), row(2, 2001, 100, 500), row(3, 2002, 0, 0), row(4, 2003, 150, 400)];
    const t = topVsBiggest(rows, new Map([[2, 'Two'], [1, 'One']]));
    expect(t).toMatchObject({
      topGrossing: { id: 2, title: 'Two', revenue: 500, budget: 100 },
      biggestBudget: { id: 1, title: 'One', revenue: 0, budget: 200 },
      sameTitle: false,
      excludedZeroRevenue: 2,
      excludedZeroBudget: 1,
    });
    expect(t?.differencePct).toBeCloseTo(150, 10);
  });

  it('breaks ties by the lower id and says when it is the same title', () => {
    const t = topVsBiggest([row(9, 2000, 100, 100), row(3, 2000, 100, 100)]);
    expect(t).toMatchObject({ topGrossing: { id: 3 }, biggestBudget: { id: 3 }, sameTitle: true, differencePct: 0 });
  });

  it('is undefined when every revenue is unknown', () => {
    expect(topVsBiggest([row(1, 2000, 100, 0)])).toBeUndefined();
  });
});

describe('chart', () => {
  it('renders an SVG with both axis titles', async () => {
    const { years } = byYear([row(1, 1999, 63_000_000, 100_853_753), row(2, 2002, 60_000_000, 214_034_224), row(3, 2002, 0, 0)]);
    expect(chartData(years)).toHaveLength(4);
    const svg = await renderRevenueBudgetSvg('movie-test', years);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain(CHART_AXIS.x);
    expect(svg).toContain(CHART_AXIS.y);
  });

  const svgWidth = (svg: string) => Number(/<svg[^>]* width="(\d+)"/.exec(svg)?.[1]);
  // The only rotated text may be the y axis title: every year label stays horizontal.
  const rotations = (svg: string) => svg.match(/rotate\(/g)?.length ?? 0;

  it('draws two years as grouped bars a few hundred pixels wide, labels horizontal', async () => {
    const { years } = byYear([row(1, 2001, 60e6, 214e6), row(2, 2002, 30e6, 90e6)]);
    const svg = await renderRevenueBudgetSvg('movie-test', years);
    expect(svg).toContain('class="mark-rect');
    expect(svgWidth(svg)).toBeGreaterThan(250);
    expect(svgWidth(svg)).toBeLessThan(450);
    expect(rotations(svg)).toBe(1);
  });

  it('draws a hundred years as two lines on a laptop-wide chart with decade ticks, labels horizontal', async () => {
    const rows = Array.from({ length: 100 }, (_, i) => row(i + 1, 1925 + i, (i + 1) * 1e6, (i + 1) * 3e6));
    const svg = await renderRevenueBudgetSvg('movie-test', byYear(rows).years);
    expect(svg).toContain('class="mark-line');
    expect(svg).not.toContain('class="mark-rect');
    expect(svgWidth(svg)).toBeGreaterThan(700);
    expect(svgWidth(svg)).toBeLessThan(1_000);
    expect(rotations(svg)).toBe(1);
    for (const decade of ['1930', '1980', '2020']) expect(svg).toContain(`>${decade}</text>`);
    expect(svg).not.toContain('>1931</text>');
  });
});
