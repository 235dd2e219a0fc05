/**
 * Human-facing lines on stderr, kept clear of progress bars: while a bar owns the terminal
 * (`commands/progress.ts`, the upload bar) it installs a sink that prints lines above the bar
 * (cli-progress `MultiBar.log`); otherwise lines go straight to stderr. Log lines on a TTY and
 * the CLI's own notices all pass here.
 */

let sink: ((text: string) => void) | undefined;

/** Writes `text` (newline-terminated lines) to stderr, above a progress bar if one is drawn. */
export function writeStderr(text: string): void {
  if (sink) sink(text);
  else process.stderr.write(text);
}

/**
 * Routes {@link writeStderr} to `to` until the returned function is called (a progress bar
 * drawing on stderr).
 */
export function redirectStderr(to: (text: string) => void): () => void {
  const previous = sink;
  sink = to;
  return () => {
    sink = previous;
  };
}

/** True when stderr is a terminal a person reads (colors, bars, human log lines). */
export function stderrIsTerminal(): boolean {
  return process.stderr.isTTY === true;
}
