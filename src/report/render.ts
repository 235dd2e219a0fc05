/**
 * Renders a run report as Markdown (tables for humans and PR comments) or JSON (for scripts).
 */
import { correlationStrength, type CorrelationStat, type MoneyStat, type MoneyTitle, type RunStats } from './stats.js';

/** What `tmdb-fleet report` found out about one run. */
export interface RunReport {
  runId: string;
  /** `movie` or `tv`, from the manifest. */
  kind: string;
  /** The run's final state, from the manifest (`completed`, `failed` or `cancelled`). */
  state: string;
  /** Data objects read (every object the manifest lists). */
  objects: number;
  stats: RunStats;
  /** Path of the SVG chart written, or null when none was (no title with a known revenue or budget). */
  chart: string | null;
}

const usdFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** USD rounded to whole dollars with thousands separators (`$1,234,567`), or `n/a` for null. */
export function formatUsd(value: number | null): string {
  return value === null ? 'n/a' : `$${usdFormat.format(Math.round(value))}`;
}

/** A Pearson r with 4 decimals, or `n/a` when it is undefined. */
export function formatR(r: number | null): string {
  return r === null ? 'n/a' : r.toFixed(4);
}

/** A signed percentage with one decimal, e.g. `+58.7%`. */
export function formatPct(pct: number): string {
  return `${pct >= 0 ? '+' : ''}${pct.toFixed(1)}%`;
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

function who(t: MoneyTitle): string {
  return `${cell(t.title ?? 'untitled')} (id ${t.id}, ${t.year ?? 'unknown year'})`;
}

function moneyRow(label: string, m: MoneyStat, hasMoney: boolean): string {
  if (!hasMoney) return `| ${label} | n/a (tv documents have no such field) | 0 | — |`;
  return `| ${label} | ${formatUsd(m.mean)} | ${m.n} | ${m.excludedZero} |`;
}

function correlationRow(label: string, c: CorrelationStat): string {
  const value = c.r === null ? 'n/a' : `${formatR(c.r)} (${correlationStrength(c.r)})`;
  return `| ${label} | ${value} | ${c.n} | ${c.excluded} |`;
}

/** The Markdown report: a summary table, then revenue and budget by release year. */
export function renderMarkdown(report: RunReport): string {
  const s = report.stats;
  const out: string[] = [];
  out.push(`## Run ${report.runId} (${report.kind}, ${report.state})`, '');
  out.push(
    `${s.titles} titles in ${report.objects} object${report.objects === 1 ? '' : 's'}. Money is USD as TMDB reports it; TMDB's 0 means unknown and is ` +
      'excluded from means, totals, correlations and the top-grossing / biggest-budget comparison ("excluded" counts them).',
  );
  if (!s.hasMoney) {
    out.push('', 'TV documents (TMDB `/tv/{id}`) carry no budget or revenue: those figures are not applicable (n/a), not zero.');
  }
  out.push('', '| measure | value | n | excluded |', '|---|---:|---:|---:|');
  out.push(moneyRow('mean revenue (USD)', s.revenue, s.hasMoney));
  out.push(moneyRow('mean budget (USD)', s.budget, s.hasMoney));
  const t = s.topVsBiggest;
  if (t) {
    out.push(`| top-grossing: ${who(t.topGrossing)}, revenue | ${formatUsd(t.topGrossing.revenue)} | ${s.revenue.n} | ${t.excludedZeroRevenue} |`);
    out.push(`| biggest budget: ${who(t.biggestBudget)}, budget | ${formatUsd(t.biggestBudget.budget)} | ${s.budget.n} | ${t.excludedZeroBudget} |`);
    out.push(
      `| top-grossing revenue vs biggest budget${t.sameTitle ? ' (same title)' : ''} | ${formatPct(t.differencePct)} | | |`,
    );
  } else {
    const why = s.hasMoney ? 'no title with a known revenue and budget' : 'tv documents have no revenue or budget';
    out.push(`| top-grossing vs biggest budget | n/a (${why}) | 0 | |`);
  }
  out.push(correlationRow('popularity ~ revenue (Pearson r)', s.correlations.popularityRevenue));
  out.push(correlationRow('popularity ~ release year (Pearson r)', s.correlations.popularityYear));
  out.push(`| titles with unknown release year | ${s.unknownYear} | | |`);

  out.push('', '### Revenue and budget by release year', '');
  out.push(
    '| release year | titles | revenue total (USD) | mean revenue (USD) | revenue n | budget total (USD) | mean budget (USD) | budget n |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const y of s.years) {
    const money = (m: MoneyStat) => (s.hasMoney ? [formatUsd(m.n > 0 ? m.total : null), formatUsd(m.mean), String(m.n)] : ['n/a', 'n/a', '0']);
    out.push(`| ${y.year} | ${y.titles} | ${[...money(y.revenue), ...money(y.budget)].join(' | ')} |`);
  }
  if (s.unknownYear > 0) out.push(`| unknown year | ${s.unknownYear} | — | — | — | — | — | — |`);
  return `${out.join('\n')}\n`;
}

/** The JSON report: {@link RunReport} as one pretty-printed object. */
export function renderJson(report: RunReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
