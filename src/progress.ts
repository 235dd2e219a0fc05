/**
 * Follows a run until it ends: a progress bar on a TTY (done/total, titles/s, ETA, by
 * cli-progress), plain lines otherwise (one every few seconds, for logs and CI).
 */
import cliProgress from 'cli-progress';
import type { RunStore, RunSummary } from './runs.js';

/** Options of {@link watchRun}. */
export interface WatchOptions {
  /** Poll interval, ms. @defaultValue 500 */
  intervalMs?: number;
  /** Where progress goes. @defaultValue process.stderr */
  stream?: NodeJS.WriteStream;
  /** Interval between plain lines when not a TTY, ms. @defaultValue 5000 */
  lineEveryMs?: number;
}

/** Titles that reached a terminal state (fetched, not found or failed). */
export function doneCount(s: RunSummary): number {
  return s.fetched + s.notFound + s.failed;
}

/** Polls a run's summary until it is completed or failed; returns the last summary. */
export async function watchRun(runs: RunStore, runId: string, options: WatchOptions = {}): Promise<RunSummary> {
  const stream = options.stream ?? process.stderr;
  const interval = options.intervalMs ?? 500;
  const tty = stream.isTTY === true;
  const bar = tty
    ? new cliProgress.SingleBar(
        {
          stream,
          format: '{bar} {value}/{total} titles | {rate}/s | ETA {eta_formatted} | objects {objects} | {state}',
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  let summary = await runs.summary(runId);
  const started = Date.now();
  const startDone = doneCount(summary);
  let lastLine = 0;
  bar?.start(Math.max(summary.expected, summary.discovered, 1), doneCount(summary), {
    rate: '0',
    objects: 0,
    state: summary.state,
  });
  for (;;) {
    const done = doneCount(summary);
    const rate = ((done - startDone) / Math.max((Date.now() - started) / 1000, 0.001)).toFixed(1);
    const total = Math.max(summary.expected, summary.discovered, done, 1);
    if (bar) {
      bar.setTotal(total);
      bar.update(done, { rate, objects: summary.objects, state: summary.state });
    } else if (Date.now() - lastLine >= (options.lineEveryMs ?? 5_000) || isOver(summary)) {
      lastLine = Date.now();
      stream.write(
        `${summary.runId} ${summary.state}: ${done}/${total} titles (fetched ${summary.fetched}, not found ${summary.notFound}, failed ${summary.failed}), ${rate}/s, ${summary.objects} objects\n`,
      );
    }
    if (isOver(summary)) break;
    await new Promise((r) => setTimeout(r, interval));
    summary = await runs.summary(runId);
  }
  bar?.stop();
  return summary;
}

function isOver(s: RunSummary): boolean {
  return s.state === 'completed' || s.state === 'failed' || (s.state === 'cancelled' && s.finishedAt !== undefined);
}
