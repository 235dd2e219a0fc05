/** Shutdown of long-running commands (worker, dashboard) within a deadline, whatever Redis does. */

/**
 * Waits for SIGTERM/SIGINT, then runs `stop` and exits: 0 when `stop` resolves to anything but
 * `false` (everything finished and closed), 1 when it resolves `false` or rejects, and 1 when it
 * has not settled `deadlineMs` after the signal: a close that hangs on a lost Redis cannot keep
 * the process alive.
 */
export function onShutdown(stop: () => Promise<boolean | void>, deadlineMs: number): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`tmdb-fleet: ${signal} received, shutting down\n`);
    setTimeout(() => {
      process.stderr.write(`tmdb-fleet: shutdown deadline (${deadlineMs / 1000} s) passed before every connection closed; exiting with code 1\n`);
      process.exit(1);
    }, deadlineMs);
    stop().then(
      (clean) => process.exit(clean === false ? 1 : 0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => handler('SIGTERM'));
  process.on('SIGINT', () => handler('SIGINT'));
}
