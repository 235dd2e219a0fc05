/**
 * Runs inside a fresh network namespace (`netns.ts` starts it under `unshare -rn`): starts the
 * fake TMDB on the namespace's loopback, then runs CLI commands one after the other, each in its
 * own directory and environment, with TMDB_API_BASE_URL pointing at that fake. Prints one JSON
 * line on stdout: the fake's movie ids and each command's exit code, stdout and stderr.
 *
 * argv[2]: a {@link DriverSpec} as JSON. Its own environment is what every command inherits.
 */
import { startFakeTmdb, type FakeTmdbOptions } from '../../src/sandbox/server.js';
import { startCli, type CliResult } from './fleet-process.js';

/** A command the driver runs. */
export interface DriverStep {
  args: string[];
  env: Record<string, string>;
  cwd: string;
  /** SIGINT the command `delayMs` after its stdout first matches `afterStdout` (a regular expression). */
  interrupt?: { afterStdout: string; delayMs: number };
}

/** What the driver is asked to do. */
export interface DriverSpec {
  tmdb: FakeTmdbOptions;
  steps: DriverStep[];
}

/** What the driver prints. */
export interface DriverOutput {
  movieIds: number[];
  results: CliResult[];
}

/** Runs one step; SIGINTs it when asked. */
async function runStep(step: DriverStep, tmdbUrl: string): Promise<CliResult> {
  const cli = startCli(step.args, { ...step.env, TMDB_API_BASE_URL: tmdbUrl }, 180_000, { cwd: step.cwd });
  const interrupt = step.interrupt;
  if (interrupt) {
    const pattern = new RegExp(interrupt.afterStdout);
    const timer = setInterval(() => {
      if (!pattern.test(cli.stdout())) return;
      clearInterval(timer);
      setTimeout(() => cli.child.kill('SIGINT'), interrupt.delayMs);
    }, 50);
    void cli.result.finally(() => clearInterval(timer));
  }
  return cli.result;
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '{}') as DriverSpec;
  const tmdb = await startFakeTmdb(spec.tmdb);
  try {
    const results: CliResult[] = [];
    for (const step of spec.steps) results.push(await runStep(step, tmdb.url));
    const output: DriverOutput = { movieIds: tmdb.titles('movie').map((t) => t.id), results };
    process.stdout.write(`${JSON.stringify(output)}\n`);
  } finally {
    await tmdb.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`netns-driver: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
