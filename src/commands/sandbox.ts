/**
 * `tmdb-fleet sandbox [--port 8787] [--movies N] [--tv N] [--rate-limit RPS] [--latency-ms MS]`:
 * serves a local, deterministic TMDB on 127.0.0.1 (src/sandbox/: discover, details with
 * append_to_response, search, find, changes, configuration, the daily ID exports, 429 with
 * Retry-After over its rate limit) until SIGINT or SIGTERM (exit 0). It prints one line: the
 * variables that point the fleet at it. It reads no configuration.
 */
import { Command } from 'commander';
import { SANDBOX_DATES, SANDBOX_TOKEN, startSandbox } from '../sandbox/sandbox.js';
import { port, positiveNumber, wholeNumber } from './options.js';
import { onShutdown } from './shutdown.js';

/** Default port of the sandbox. */
export const SANDBOX_PORT = 8787;
/** Most titles per kind (a million titles take about 40 MB). */
const MAX_TITLES = 10_000_000;
/** How long closing the sandbox may take after a signal, ms. */
const CLOSE_DEADLINE_MS = 5_000;

/** Options as commander hands them over, parsed. */
interface SandboxFlags {
  port: number;
  movies: number;
  tv: number;
  rateLimit?: number;
  latencyMs: number;
}

/** The line that tells the user what to export (a shell line: the variables, then a comment). */
export function sandboxLine(url: string, filesUrl: string, flags: SandboxFlags): string {
  const limit = flags.rateLimit === undefined ? 'no rate limit' : `${flags.rateLimit} requests/s`;
  return (
    `export TMDB_API_BASE_URL=${url} TMDB_FILES_BASE_URL=${filesUrl} TMDB_ACCESS_TOKEN=${SANDBOX_TOKEN}` +
    `  # sandbox TMDB: ${flags.movies} movies, ${flags.tv} tv shows dated ${SANDBOX_DATES.from}..${SANDBOX_DATES.to}, ${limit}; Ctrl-C stops it`
  );
}

/** The `sandbox` command. */
export function sandboxCommand(): Command {
  return new Command('sandbox')
    .description(`serve a local, deterministic TMDB (titles dated ${SANDBOX_DATES.from}..${SANDBOX_DATES.to}) until Ctrl-C; prints what to export`)
    .option('--port <port>', 'TCP port on 127.0.0.1 (0: any free port)', port, SANDBOX_PORT)
    .option('--movies <n>', 'movies in the catalog', wholeNumber('--movies', MAX_TITLES), 1_000)
    .option('--tv <n>', 'tv shows in the catalog', wholeNumber('--tv', MAX_TITLES), 1_000)
    .option('--rate-limit <rps>', "TMDB's own limit, requests/s: above it 429 with Retry-After (default: none)", positiveNumber('--rate-limit', 100_000))
    .option('--latency-ms <ms>', 'latency added to every API request, ms', wholeNumber('--latency-ms', 60_000), 0)
    .action(async (flags: SandboxFlags) => {
      const sandbox = await startSandbox({
        port: flags.port,
        movies: flags.movies,
        tv: flags.tv,
        rateLimitRps: flags.rateLimit,
        latencyMs: flags.latencyMs,
      }).catch((err: unknown) => {
        const code = (err as { code?: string }).code;
        if (code === 'EADDRINUSE') throw new Error(`port ${flags.port} is in use: pass another --port`);
        throw err;
      });
      process.stdout.write(`${sandboxLine(sandbox.url, sandbox.filesUrl, flags)}\n`);
      onShutdown(() => sandbox.close(), CLOSE_DEADLINE_MS);
    });
}
