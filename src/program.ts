/**
 * The `tmdb-fleet` program: every subcommand (one module each in src/commands/), how errors
 * become one line and an exit code, and the CLI's start. `cli.ts` is the executable in front of
 * it. Subcommands map to producers (backfill), workers (worker), run state (status, verify), the
 * dashboard, a look before you leap (check) and an offline TMDB (sandbox). Exit codes
 * (`commands/exit-codes.ts`): 0 success (a run complete by its audit), 1 a run failed or a
 * runtime error, 2 bad arguments (commander's own errors included) or configuration, 3 a run
 * complete with a shortfall.
 */
import { Command, CommanderError } from 'commander';
import { loadConfig, loadDotEnv, type Config } from './config.js';
import { UsageError, ConfigError } from './errors.js';
import { scrubSecrets, secretValues } from './log.js';
import { backfillCommand } from './commands/backfill.js';
import { changesCommand } from './commands/changes.js';
import { checkCommand } from './commands/check.js';
import { dashboardCommand } from './commands/dashboard.js';
import { ddlCommand } from './commands/ddl.js';
import { enrichCommand } from './commands/enrich.js';
import { reportCommand } from './commands/report.js';
import { cancelCommand, statusCommand } from './commands/run-control.js';
import { runsCommand } from './commands/runs.js';
import { sandboxCommand } from './commands/sandbox.js';
import { scheduleCommand } from './commands/schedule.js';
import { searchCommand } from './commands/search.js';
import { syncCommand } from './commands/sync.js';
import { uploadCommand } from './commands/upload.js';
import { workerCommand } from './commands/worker.js';
import { verifyCommand } from './commands/verify.js';
import { EXIT } from './commands/exit-codes.js';
import { PrivateRedisSession, type GetConfig } from './commands/private-redis.js';

/**
 * Builds the command-line program (without running it): one module per command in src/commands/.
 * @param privateRedis - opened by an action's first config read when REDIS_URL is unset and
 * nothing answers on 6379 (the private Redis of TMDB_FLEET_HOME, `commands/private-redis.ts`);
 * the caller stops it.
 */
export function buildProgram(env: NodeJS.ProcessEnv = process.env, privateRedis = new PrivateRedisSession()): Command {
  let config: Promise<Config> | undefined;
  let action: Command | undefined;
  const program = new Command('tmdb-fleet')
    .description('Moves the TMDB catalog into the raw zone of an S3 data lake: complete, exactly once, under one fleet-wide rate limit.')
    .showHelpAfterError()
    .configureOutput({ outputError: (str, write) => write(str) })
    .hook('preAction', (_program, actionCommand) => {
      action = actionCommand;
    });
  const getConfig: GetConfig = () => (config ??= (async () => privateRedis.open(loadConfig(env), action ?? program))());
  for (const command of [
    workerCommand,
    backfillCommand,
    changesCommand,
    searchCommand,
    enrichCommand,
    cancelCommand,
    statusCommand,
    dashboardCommand,
    uploadCommand,
    syncCommand,
    reportCommand,
    runsCommand,
    scheduleCommand,
    ddlCommand,
    verifyCommand,
    checkCommand,
    sandboxCommand,
  ]) {
    program.addCommand(command(getConfig));
  }
  // Commander's own errors (unknown option, missing argument, a refused value) throw rather
  // than exit, so main() gives them exit code 2 like every other bad input.
  const throwInstead = (command: Command): void => {
    command.exitOverride();
    command.commands.forEach(throwInstead);
  };
  throwInstead(program);
  return program;
}

/** The exit code of an error: 2 for bad input (commander's, ours, configuration), else 1. */
function exitCodeOf(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  return err instanceof UsageError || err instanceof ConfigError ? EXIT.usage : EXIT.failed;
}

/** Runs the CLI; prints one clear line for expected errors, never a secret. */
export async function main(argv: string[] = process.argv): Promise<void> {
  const privateRedis = new PrivateRedisSession();
  const program = buildProgram(process.env, privateRedis);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    await privateRedis.stop();
    if (err instanceof CommanderError) {
      // Commander has printed its message (or the help) already.
      process.exitCode = exitCodeOf(err);
      return;
    }
    let secrets: string[] = [];
    try {
      secrets = secretValues(loadConfig());
    } catch {
      /* config errors carry no secret values */
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`tmdb-fleet: ${scrubSecrets(message, secrets)}\n`);
    const code = exitCodeOf(err);
    process.exitCode = code;
    // A connection opened before the error (a worker's Redis, say) must not keep us alive.
    setTimeout(() => process.exit(code), 1_000).unref();
    return;
  }
  await privateRedis.stop();
}

/**
 * The installed CLI's start (`cli.ts`): reads `.env` (values already in the environment win),
 * then runs {@link main}. A malformed `.env` prints one line and exits 2.
 */
export function start(): void {
  try {
    loadDotEnv();
  } catch (err) {
    process.stderr.write(`tmdb-fleet: ${(err as Error).message}\n`);
    process.exit(2);
  }
  void main();
}
