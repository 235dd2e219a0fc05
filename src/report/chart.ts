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

/** Most years drawn as grouped bars; a longer span is drawn as two lines. */
export const MAX_BAR_YEARS = 25;

/** Width of the line chart (spans over {@link MAX_BAR_YEARS} years), px. */
const LINE_WIDTH_PX = 720;

/**
 * The Vega-Lite spec of the revenue-and-budget-by-year chart of a run: grouped bars for up to
 * {@link MAX_BAR_YEARS} years (one labelled tick per year), two lines over a year axis with
 * decade ticks beyond that, so 100 years fit a laptop screen. Labels stay horizontal.
 */
export function revenueBudgetSpec(runId: string, years: readonly YearStat[]): TopLevelSpec {
  const data = chartData(years);
  const span = data.length === 0 ? 0 : Math.max(...data.map((d) => d.year)) - Math.min(...data.map((d) => d.year)) + 1;
  const bars = span <= MAX_BAR_YEARS;
  const y = { field: 'usd', type: 'quantitative', title: CHART_AXIS.y, axis: { format: '$~s', labelExpr: "replace(datum.label, 'G', 'B')" } } as const;
  const color = { field: 'measure', type: 'nominal', title: null, sort: ['Revenue', 'Budget'], scale: { range: ['#1f77b4', '#ff7f0e'] } } as const;
  const tooltip = [
    { field: 'year', type: 'ordinal' },
    { field: 'measure', type: 'nominal' },
    { field: 'usd', type: 'quantitative', format: ',' },
    { field: 'titles', type: 'quantitative' },
  ] as const;
  const common = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: 'Revenue and budget by release year', subtitle: `run ${runId}` },
    height: 260,
    background: 'white',
    data: { values: data },
  } as const;
  if (bars) {
    return {
      ...common,
      width: { step: 24 },
      mark: { type: 'bar' },
      encoding: {
        x: { field: 'year', type: 'ordinal', title: CHART_AXIS.x, axis: { labelAngle: 0 } },
        xOffset: { field: 'measure', type: 'nominal', sort: ['Revenue', 'Budget'] },
        y,
        color,
        tooltip: [...tooltip],
      },
    };
  }
  return {
    ...common,
    width: LINE_WIDTH_PX,
    mark: { type: 'line', point: { size: 12 } },
    encoding: {
      x: {
        field: 'year',
        type: 'quantitative',
        title: CHART_AXIS.x,
        scale: { zero: false, nice: false },
        axis: { format: 'd', labelAngle: 0, tickMinStep: 1, values: decadeTicks(data) },
      },
      y,
      color,
      tooltip: [...tooltip],
    },
  };
}

/** One tick per decade (per 20 years past a century) across the data's years. */
function decadeTicks(data: readonly ChartDatum[]): number[] {
  const first = Math.min(...data.map((d) => d.year));
  const last = Math.max(...data.map((d) => d.year));
  const step = last - first > 100 ? 20 : 10;
  const ticks: number[] = [];
  for (let t = Math.ceil(first / step) * step; t <= last; t += step) ticks.push(t);
  return ticks;
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
