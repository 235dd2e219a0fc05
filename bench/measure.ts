/**
 * Pure arithmetic over what the bench sampled: rates over the steady middle of a run, the cores
 * each process group kept busy there, and the details queue's depth.
 */
import os from 'node:os';

/** CPU seconds per wall second (1.0 = one core busy) over the steady middle of the run. */
export interface CpuPicture {
  /** Length of the window measured, s. */
  windowS: number;
  /** All worker processes together. */
  workers: number;
  redis: number;
  cli: number;
  /** This process: the fake TMDB, s3rver and the samplers. */
  bench: number;
  /** The whole machine, every process (ours or anyone else's). */
  machine: number;
}

/** Cumulative CPU seconds per process group at one moment. */
export interface CpuSample {
  at: number;
  workers: number;
  redis: number;
  /** NaN once the CLI has exited. */
  cli: number;
  bench: number;
  machine: { busy: number; total: number };
}

/** Cores busy per process group between the samples nearest to `from` and `to`. */
export function cpuPicture(samples: CpuSample[], from: number, to: number): CpuPicture {
  const nearest = (t: number) =>
    samples.reduce((best, x) => (Math.abs(x.at - t) < Math.abs(best.at - t) ? x : best), samples[0]!);
  const a = nearest(from);
  const b = nearest(to);
  const span = (b.at - a.at) / 1000;
  const rate = (x: number, y: number) => (span > 0 ? (y - x) / span : Number.NaN);
  const cores = os.cpus().length;
  return {
    windowS: span,
    workers: rate(a.workers, b.workers),
    redis: rate(a.redis, b.redis),
    cli: rate(a.cli, b.cli),
    bench: rate(a.bench, b.bench),
    machine: b.machine.total > a.machine.total ? ((b.machine.busy - a.machine.busy) / (b.machine.total - a.machine.total)) * cores : Number.NaN,
  };
}

/** The details queue over the middle 80 % of samples. */
export interface QueuePicture {
  meanWaiting: number;
  emptyShare: number;
  meanActive: number;
}

/** Mean waiting/active details jobs and the share of samples with none waiting, over the middle 80 %. */
export function queuePicture(samples: { waiting: number; active: number }[]): QueuePicture {
  const cut = Math.floor(samples.length * 0.1);
  const middle = samples.slice(cut, samples.length - cut);
  const n = Math.max(middle.length, 1);
  return {
    meanWaiting: middle.reduce((s, x) => s + x.waiting, 0) / n,
    emptyShare: middle.filter((x) => x.waiting === 0).length / n,
    meanActive: middle.reduce((s, x) => s + x.active, 0) / n,
  };
}

/** The middle of the run: timestamps with the first and last 10 % dropped. */
function steadyMiddle(timestamps: number[]): number[] {
  const sorted = timestamps.slice().sort((a, b) => a - b);
  const cut = Math.floor(sorted.length * 0.1);
  return sorted.slice(cut, sorted.length - cut);
}

/** First and last timestamp of the steady middle of the run. */
export function steadyWindow(timestamps: number[]): [number, number] {
  const middle = steadyMiddle(timestamps);
  return [middle[0] ?? 0, middle[middle.length - 1] ?? 0];
}

/** Rate over the middle of the run: drop the first and last 10 % of timestamps; count / span. */
export function steadyRate(timestamps: number[]): number {
  const middle = steadyMiddle(timestamps);
  if (middle.length < 2) return Number.NaN;
  const spanMs = middle[middle.length - 1]! - middle[0]!;
  return spanMs > 0 ? ((middle.length - 1) * 1000) / spanMs : Number.NaN;
}
