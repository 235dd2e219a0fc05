/**
 * The CLI's exit codes, in one place:
 * - 0: success; for a command that followed a run to its end, a run complete by its own audit
 *   (or complete with a shortfall and `--allow-partial`);
 * - 1: a run failed or was cancelled, a runtime error, or (`verify`) the lake contradicts the
 *   manifest;
 * - 2: bad input: arguments (commander's own errors included), configuration, a run id;
 * - 3: a run completed with a shortfall its audit reports (uncovered titles, failed titles,
 *   pages, files or copies under RUN_FAILURE_THRESHOLD), without `--allow-partial`.
 */
import type { RunSummary } from '../runs/types.js';

/** Exit codes by meaning. */
export const EXIT = { ok: 0, failed: 1, usage: 2, partial: 3 } as const;

/**
 * The exit code of a run followed to its end: 1 unless completed; then 0 when its audit's
 * verdict is `complete` (or `allowPartial`), else 3.
 */
export function runExitCode(s: Pick<RunSummary, 'state' | 'verdict'>, allowPartial: boolean): number {
  if (s.state !== 'completed') return EXIT.failed;
  return s.verdict === 'complete' || allowPartial ? EXIT.ok : EXIT.partial;
}
