/**
 * What the runs pages show of a run, computed from its listing (pure, no I/O): the progress
 * bar's figures, the rate since the run started and the time left at that rate, and times and
 * durations as a person reads them.
 */
import { runProgress, type RunListing } from '../runs/history.js';

/** A run's row on the runs page. */
export interface RunRow {
  run: RunListing;
  done: number;
  total: number;
  unit: string;
  /** 0..100, one decimal. */
  percent: number;
  /** e.g. `38.2 titles/s`; `-` when the run is not running or nothing is done yet. */
  rate: string;
  /** e.g. `4m 10s`; `-` when unknown. */
  eta: string;
  /** Failed for good: titles, pages, files or objects. */
  failures: number;
  created: string;
  finished: string;
  /** True while the run may still move (running or finalizing). */
  live: boolean;
}

/** `2026-11-21T05:12:00.114Z` → `2026-11-21 05:12:00Z`; `-` when unset. */
export function shortTime(iso: string | undefined): string {
  return iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-';
}

/** Seconds as `1h 02m`, `3m 20s` or `12s`. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s >= 3_600) return `${Math.floor(s / 3_600)}h ${String(Math.floor((s % 3_600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/** True for states a run may still leave on its own. */
export function isLive(state: string): boolean {
  return state === 'running' || state === 'finalizing';
}

/**
 * The row of a run at time `now` (ms): rate is items done per second since the run started,
 * ETA the items left at that rate (running runs only).
 */
export function runRow(run: RunListing, now = Date.now()): RunRow {
  const p = runProgress(run);
  const live = isLive(run.state);
  const elapsed = (now - Date.parse(run.createdAt)) / 1_000;
  const perSecond = live && elapsed > 0 && p.done > 0 ? p.done / elapsed : undefined;
  const left = Math.max(0, p.total - p.done);
  return {
    run,
    done: p.done,
    total: p.total,
    unit: p.unit,
    percent: p.total > 0 ? Math.min(100, Math.round((p.done / p.total) * 1_000) / 10) : run.state === 'completed' ? 100 : 0,
    rate: perSecond === undefined ? '-' : `${perSecond >= 10 ? Math.round(perSecond) : perSecond.toFixed(1)} ${p.unit}/s`,
    eta: perSecond === undefined ? '-' : left === 0 ? 'finishing' : duration(left / perSecond),
    failures: run.failed + run.pagesFailed + (run.copies?.failed ?? 0),
    created: shortTime(run.createdAt),
    finished: shortTime(run.finishedAt),
    live,
  };
}
