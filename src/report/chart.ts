/**
 * The report's chart: total revenue and total budget (USD, zeros = unknown excluded) by
 * release year, as a Vega-Lite grouped bar chart compiled with vega-lite and rendered to SVG
 * by a headless vega `View` (no browser, no canvas).
 */
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { YearStat } from './stats.js';

/** Axis titles of the chart (tests look for them in the SVG). */
export const CHART_AXIS = { x: 'Release year', y: 'Total USD (zero = unknown, excluded)' } as const;

/** One bar: a measure's total of one year. */
export interface ChartDatum {
  year: number;
  measure: 'Revenue' | 'Budget';
  /** Sum in USD over the year's titles with a non-zero value. */
  usd: number;
  /** Titles behind the sum. */
  titles: number;
}

/** The chart's data: one datum per year and measure that has at least one non-zero value. */
export function chartData(years: readonly YearStat[]): ChartDatum[] {
  const out: ChartDatum[] = [];
  for (const y of years) {
    if (y.revenue.n > 0) out.push({ year: y.year, measure: 'Revenue', usd: y.revenue.total, titles: y.revenue.n });
    if (y.budget.n > 0) out.push({ year: y.year, measure: 'Budget', usd: y.budget.total, titles: y.budget.n });
  }
  return out;
}

/** The Vega-Lite spec of the revenue-and-budget-by-year chart of a run. */
export function revenueBudgetSpec(runId: string, years: readonly YearStat[]): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: 'Revenue and budget by release year', subtitle: `run ${runId}` },
    width: { step: 28 },
    height: 260,
    background: 'white',
    data: { values: chartData(years) },
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'year', type: 'ordinal', title: CHART_AXIS.x },
      xOffset: { field: 'measure', type: 'nominal', sort: ['Revenue', 'Budget'] },
      y: { field: 'usd', type: 'quantitative', title: CHART_AXIS.y, axis: { format: '$~s', labelExpr: "replace(datum.label, 'G', 'B')" } },
      color: {
        field: 'measure',
        type: 'nominal',
        title: null,
        sort: ['Revenue', 'Budget'],
        scale: { range: ['#1f77b4', '#ff7f0e'] },
      },
      tooltip: [
        { field: 'year', type: 'ordinal' },
        { field: 'measure', type: 'nominal' },
        { field: 'usd', type: 'quantitative', format: ',' },
        { field: 'titles', type: 'quantitative' },
      ],
    },
  };
}

/**
 * Renders the revenue-and-budget-by-year chart of a run to an SVG document (a string starting
 * with `<svg`).
 * @throws Error from vega-lite or vega when the spec cannot be compiled or rendered.
 */
export async function renderRevenueBudgetSvg(runId: string, years: readonly YearStat[]): Promise<string> {
  const vegaSpec = compile(revenueBudgetSpec(runId, years)).spec;
  const view = new View(parse(vegaSpec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
