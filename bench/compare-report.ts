/**
 * Runs the side-by-side (bench/compare.ts) for the settings and contenders chosen by
 * BENCH_SETTINGS and BENCH_CONTENDERS and renders one Markdown table per setting: whole-run
 * figures first, then the fleet's ratio to each contender, then the steady-middle rate.
 */
import { measureBullmqFloor } from './bullmq-floor.js';
import { CONTENDERS, settings, type Outcome, type Setting } from './compare.js';

const MIB = 1024 * 1024;

/** Contender ids chosen by BENCH_CONTENDERS (default: all). */
function chosen<T extends { id: string }>(all: T[], variable: string): T[] {
  const wanted = process.env[variable]?.split(',').map((s) => s.trim()).filter(Boolean);
  if (!wanted || wanted.length === 0) return all;
  const unknown = wanted.filter((id) => !all.some((x) => x.id === id));
  if (unknown.length > 0) throw new Error(`${variable}: unknown ${unknown.join(', ')} (known: ${all.map((x) => x.id).join(', ')})`);
  return all.filter((x) => wanted.includes(x.id));
}

const fmt = (x: number, digits = 1) => (Number.isFinite(x) ? x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '—');
const titlesPerS = (o: Outcome) => o.landed / (o.wallMs / 1000);
const cpuPer1k = (o: Outcome) => (o.landed > 0 ? (o.cpuSeconds / o.landed) * 1000 : Number.NaN);
/** TMDB requests answered (429s left out: they are refusals) per second of `wallMs`, over the ceiling. */
const fraction = (o: Outcome, wallMs = o.wallMs) => (o.requests - o.status429) / (wallMs / 1000) / o.ceilingRps;

function row(o: Outcome, fleet: Outcome | undefined, settingTitles: number): string {
  const share = o.requests > 0 ? o.status429 / o.requests : 0;
  const ratio = (f: (x: Outcome) => number) => (fleet && fleet !== o && fleet.ok && o.ok ? `${fmt(f(fleet) / f(o), 2)}×` : '—');
  return [
    '',
    o.titles < settingTitles ? `${o.contender} (capped at ${o.titles.toLocaleString('en-US')} titles)` : o.contender,
    o.landed.toLocaleString('en-US'),
    `${fmt(o.wallMs / 1000)} s`,
    o.runWallMs === undefined ? '—' : `${fmt(o.runWallMs / 1000)} s (${fmt(o.landed / (o.runWallMs / 1000))}/s)`,
    fmt(titlesPerS(o)),
    o.runWallMs === undefined ? fmt(fraction(o), 2) : `${fmt(fraction(o), 2)} (${fmt(fraction(o, o.runWallMs), 2)} workers up)`,
    `${fmt(share * 100, 2)} % (${o.status429}/${o.requests})`,
    fmt(cpuPer1k(o), 2),
    `${fmt(o.peakRss / MIB)} MiB`,
    o.redisPerTitle === undefined ? '—' : fmt(o.redisPerTitle),
    o.verified,
    ratio(titlesPerS),
    ratio(cpuPer1k),
    ratio((x) => x.peakRss),
    fmt(o.steadyDetailsRps),
    '',
  ]
    .join(' | ')
    .trim();
}

/** The table of one setting, with the notes on how each contender ran. */
export function settingTable(s: Setting, outcomes: Outcome[]): string {
  const fleet = outcomes.find((o) => o.contender === 'fleet');
  const notes = chosen(CONTENDERS, 'BENCH_CONTENDERS').map((c) => `- ${c.describe(s)}`);
  for (const o of outcomes) {
    if (!o.phases) continue;
    notes.push(
      `- ${o.contender}, where the run's time beyond the requests goes: first details answer ${fmt(o.phases.toFirstDetailsMs / 1000, 2)} s after the CLI started ` +
        `(pre-flight, page 1), CLI exit ${fmt(o.phases.afterLastDetailsMs / 1000, 2)} s after the last (last objects, manifest)`,
    );
  }
  return [
    `### ${s.name}, ${s.titles.toLocaleString('en-US')} titles`,
    '',
    '| contender | titles landed | wall, whole run | wall with the workers already up (titles/s) | titles/s, whole run | fraction of ceiling, whole run | 429 share | CPU-s per 1,000 titles | peak RSS | Redis commands per title | output | fleet ÷ this: titles/s | fleet ÷ this: CPU per title | fleet ÷ this: peak RSS | steady-middle details rps |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|',
    ...outcomes.map((o) => row(o, fleet, s.titles)),
    '',
    ...notes,
  ].join('\n');
}

/** The column definitions printed once under the tables. */
export const COMPARISON_LEGEND = [
  'Whole run: from spawning the contender\'s first process to its manifest written (the fleet: the',
  'CLI\'s exit, its 4 workers spawned first and left to go idle; "already up": from the CLI\'s start, the',
  '4 workers started and idle, as a standing fleet runs a backfill). Fraction of ceiling: TMDB requests answered (discover and details, every status but',
  '429) per second of the whole run over the ceiling, which caps them all; for fleets also with the',
  'workers already up. CPU: user +',
  'sys of every process (the fleet: 4 workers, the CLI and redis-server), from the reaped children\'s',
  'times. Peak RSS: the contender\'s process; the fleet: the sum of each of its processes\' peak',
  '(VmHWM). Redis commands per title: INFO commandstats delta, the bench\'s own sampling left out.',
  'Output: the lake read back object by object, every expected title exactly once, 404 ids absent.',
  'Fleet ÷ this: above 1 the fleet is faster (titles/s) or spends more (CPU, memory).',
].join(' ');

/**
 * Runs every chosen contender at every chosen setting.
 * @returns the Markdown (one table per setting) and a line per contender that crashed or whose output did not verify.
 */
export async function runComparison(log: (line: string) => void): Promise<{ text: string; failures: string[] }> {
  const chosenSettings = chosen(settings(), 'BENCH_SETTINGS');
  const contenders = chosen(CONTENDERS, 'BENCH_CONTENDERS');
  const tables: string[] = [];
  const failures: string[] = [];
  for (const s of chosenSettings) {
    const outcomes: Outcome[] = [];
    for (const c of contenders) {
      log(`compare ${s.id}: ${c.id}, ${c.titles(s)} titles ...`);
      try {
        const o = await c.run(s);
        outcomes.push(o);
        log(`  ${fmt(titlesPerS(o))} titles/s, fraction ${fmt(fraction(o), 2)}, 429 ${o.status429}/${o.requests}, CPU ${fmt(o.cpuSeconds)} s, wall ${fmt(o.wallMs / 1000)} s, ${o.verified}`);
        if (!o.ok) failures.push(`${s.id} ${c.id}: ${o.verified}`);
      } catch (err) {
        log(`  crashed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        failures.push(`${s.id} ${c.id} crashed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    tables.push(settingTable(s, outcomes));
  }
  const floor = await measureBullmqFloor();
  const floorLine =
    `BullMQ's own floor, for scale: ${fmt(floor.enqueue + floor.run)} Redis commands per job (enqueue ${fmt(floor.enqueue)}, run ${fmt(floor.run)}), ` +
    'a no-op job with the fleet\'s queue options on a fresh redis-server (bench/bullmq-floor.ts); a title is one details job.';
  log(floorLine);
  return { text: [...tables, COMPARISON_LEGEND, floorLine].join('\n\n'), failures };
}
