/**
 * Follows a run until it ends: a progress bar on a TTY (done/total titles, files or objects,
 * items/s, ETA, by cli-progress), plain lines otherwise (one every few seconds, for logs and
 * CI); the counts are worded by `run-summary.ts`.
 */
import cliProgress from 'cli-progress';
import { redirectStderr, writeStderr } from '../terminal.js';
import type { RedisWatch } from '../redis/availability.js';
import type { RunStore } from '../runs/store.js';
import type { RunSummary } from '../runs/types.js';
import { progressOf } from './run-summary.js';

/** Options of {@link watchRun}. */
export interface WatchOptions {
  /**
   * Poll interval of the progress, ms; the run's end is heard at once (its state channel).
   * @defaultValue 500
   */
  intervalMs?: number;
  /** Where progress goes. @defaultValue process.stderr */
  stream?: NodeJS.WriteStream;
  /** Interval between plain lines when not a TTY, ms. @defaultValue 5000 */
  lineEveryMs?: number;
  /**
   * The connection's watch: while Redis is away the polls wait (the watch says so once); when
   * the watch gives up (REDIS_WAIT_MS) this rejects with its one-line error.
   */
  redis?: RedisWatch;
  /** Counts the workers consuming the run's queues (none for a while: one notice). */
  workers?: () => Promise<number>;
}

/** After this long without a worker on the run's queues, `--wait` says so (once), ms. */
export const NO_WORKER_NOTICE_MS = 6_000;

/** How often the workers are counted while following a run, ms. */
const WORKER_CHECK_MS = 1_000;

/**
 * Polls a run's summary until it is completed or failed, and reads it at once when the run's
 * state changes (its state channel); returns the last summary. On a
 * terminal a bar (cli-progress) owns the last line: other stderr lines (logs, notices) print
 * above it (terminal.ts); its ETA reads "estimating…" until items finish, and it ends at 100 %.
 * When `options.workers` counts no worker for {@link NO_WORKER_NOTICE_MS}, one line says so.
 * @throws RedisUnavailableError when `options.redis` gives up on Redis.
 */
export async function watchRun(runs: RunStore, runId: string, options: WatchOptions = {}): Promise<RunSummary> {
  const stream = options.stream ?? process.stderr;
  const interval = options.intervalMs ?? 500;
  // Every Redis read goes through the watch, so a Redis given up on ends the wait at once.
  const guarded = <T>(read: Promise<T>): Promise<T> => (options.redis ? options.redis.guard(read) : read);
  const poll = () => guarded(runs.summary(runId));
  const count = options.workers;
  const noWorkers = count ? noWorkerNotice(() => guarded(count())) : undefined;
  // Woken at once when the run's state changes; a change missed (Redis away) waits for the poll.
  let changed = false;
  let wake: () => void = () => undefined;
  const unsubscribe = await guarded(
    runs.onStateChange(runId, () => {
      changed = true;
      wake();
    }),
  );
  let summary = await poll().catch((err: unknown) => {
    unsubscribe(); // a run that cannot be read (unknown id, Redis given up on) leaves no subscriber open
    throw err;
  });
  const bar = stream.isTTY === true ? new RunBar(stream, progressOf(summary).unit) : undefined;
  const started = Date.now();
  const startDone = progressOf(summary).done;
  let lastLine = 0;
  try {
    for (;;) {
      const p = progressOf(summary);
      const elapsed = Math.max((Date.now() - started) / 1000, 0.001);
      const rate = (p.done - startDone) / elapsed;
      const total = Math.max(p.total, 1);
      if (bar) bar.show(summary, p.done, total, rate);
      else if (Date.now() - lastLine >= (options.lineEveryMs ?? 5_000) || runIsOver(summary)) {
        lastLine = Date.now();
        stream.write(`${summary.runId} ${summary.state}: ${p.done}/${total} ${p.unit} (${p.counts}), ${rate.toFixed(1)}/s, ${summary.objects} objects\n`);
      }
      if (runIsOver(summary)) break;
      await noWorkers?.(summary);
      if (!changed) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, interval);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      changed = false;
      summary = await poll();
    }
    bar?.finish(summary);
  } finally {
    bar?.stop();
    unsubscribe();
  }
  return summary;
}

/**
 * A progress bar on stderr (cli-progress) that keeps other stderr lines above it while it is
 * drawn (terminal.ts). `format` uses cli-progress tokens and the payload's keys.
 */
export class TerminalBar {
  private readonly bars: cliProgress.MultiBar;
  private readonly bar: cliProgress.SingleBar;
  private readonly restore: () => void;

  constructor(stream: NodeJS.WriteStream, format: string, payload: Record<string, string | number>) {
    this.bars = new cliProgress.MultiBar({ stream, format, hideCursor: true }, cliProgress.Presets.shades_classic);
    this.bar = this.bars.create(1, 0, payload);
    this.restore = redirectStderr((text) => this.bars.log(text.endsWith('\n') ? text : `${text}\n`));
  }

  /** Draws `value` of `total` with the payload's new values. */
  update(value: number, total: number, payload: Record<string, string | number>): void {
    this.bar.setTotal(Math.max(total, 1));
    this.bar.update(value, payload);
  }

  /** Takes the bar off the terminal's last line; stderr lines print as usual again. */
  stop(): void {
    this.bars.stop();
    this.restore();
  }
}

/**
 * The bar of a run, in its unit (titles, files or objects): its ETA says "estimating…" until
 * items finish; it ends at 100 %.
 */
class RunBar extends TerminalBar {
  constructor(stream: NodeJS.WriteStream, unit: string) {
    super(stream, `{bar} {percentage}% | {value}/{total} ${unit} | {rate}/s | ETA {remaining} | objects {objects} | {state}`, {
      rate: '0.0',
      remaining: 'estimating…',
      objects: 0,
      state: 'running',
    });
  }

  show(s: RunSummary, done: number, total: number, rate: number): void {
    const remaining = rate > 0 && done < total ? formatEta((total - done) / rate) : 'estimating…';
    this.update(done, total, { rate: rate.toFixed(1), remaining, objects: s.objects, state: s.state });
  }

  /** The run is over: the bar shows every item it settled, 100 %. */
  finish(s: RunSummary): void {
    const done = Math.max(progressOf(s).done, 1);
    this.update(done, done, { remaining: 'done', objects: s.objects, state: s.state });
  }
}

/** `1h 02m`, `4m 05s`, `12s`. */
function formatEta(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3_600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3_600)}h ${String(Math.floor((s % 3_600) / 60)).padStart(2, '0')}m`;
}

/**
 * A check, run on each poll, that says once (on stderr, above the bar) when no worker has been
 * consuming the run's queues for {@link NO_WORKER_NOTICE_MS}.
 */
function noWorkerNotice(count: () => Promise<number>): (s: RunSummary) => Promise<void> {
  let since = Date.now();
  let checked = 0;
  let said = false;
  return async (s) => {
    if (said || Date.now() - checked < WORKER_CHECK_MS) return;
    checked = Date.now();
    if ((await count().catch(() => 1)) > 0) {
      since = Date.now();
      return;
    }
    if (Date.now() - since < NO_WORKER_NOTICE_MS) return;
    said = true;
    writeStderr(`tmdb-fleet: no worker is consuming run ${s.runId}'s queues: start workers (tmdb-fleet worker) or pass --workers N\n`);
  };
}

/** True when a run ended: completed, failed, or cancelled and finished (its manifest written). */
export function runIsOver(s: RunSummary): boolean {
  return s.state === 'completed' || s.state === 'failed' || (s.state === 'cancelled' && s.finishedAt !== undefined);
}
