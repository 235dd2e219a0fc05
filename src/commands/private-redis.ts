/**
 * Which commands use the private Redis of TMDB_FLEET_HOME (`redis/private-server.ts`), and its
 * life in one CLI process. With REDIS_URL unset (environment and ./.env) and nothing answering
 * on 127.0.0.1:6379:
 * - a command that runs workers in this process (`backfill`, `search`, `enrich`, `changes` with
 *   `--wait --workers N`, `sync` with `--workers N`, `upload`) uses the private Redis, starting
 *   it when none runs;
 * - any other command that talks to Redis (`status`, `runs`, `cancel`, `report`, `schedule`,
 *   `worker`, `dashboard`, `backfill --resume` …) uses it when the directory holds one: a
 *   running one as it is, else started for the command's duration, so runs of the one-command
 *   mode are found again; with no private Redis there, it meets 127.0.0.1:6379 as before;
 * - `ddl` and `verify` never touch Redis.
 * A Redis this process started is stopped when the command ends, and on SIGINT/SIGTERM.
 */
import type { Command } from 'commander';
import type { Config } from '../config.js';
import { answers, DEFAULT_REDIS, displayHome, openPrivateRedis, type PrivateRedis } from '../redis/private-server.js';
import { writeStderr } from '../terminal.js';

/**
 * The configuration a command's action reads, once it checked its arguments: the first call
 * reads and validates the environment and, when the private Redis is used, opens it (it may
 * start it), so a bad argument is reported before anything starts.
 * @throws ConfigError (exit 2) for a bad environment, redis-server missing from PATH or an
 * unusable TMDB_FLEET_HOME; RedisUnavailableError when the private Redis does not start.
 */
export type GetConfig = () => Promise<Config>;

/** Commands that never open a Redis connection (`ddl athena` counts as `ddl`). */
const WITHOUT_REDIS: readonly string[] = ['ddl', 'verify'];
/** Commands that can run workers in this process with `--wait --workers N`. */
const RUN_COMMANDS: readonly string[] = ['backfill', 'search', 'enrich', 'changes'];

/** Options of a command's action that decide whether it runs workers in this process. */
interface ActionOptions {
  wait?: boolean;
  watch?: boolean;
  workers?: number;
  dryRun?: boolean;
}

/** Whether `command` (the action's own command) starts a private Redis or only uses one present. */
export function privateRedisNeed(command: Command): 'always' | 'if-present' | 'never' {
  const name = command.name();
  for (let c: Command | null = command; c; c = c.parent) if (WITHOUT_REDIS.includes(c.name())) return 'never';
  const o = command.opts<ActionOptions>();
  if (name === 'upload') return 'always';
  if (name === 'sync' && o.workers && (o.wait || o.watch)) return 'always';
  if (RUN_COMMANDS.includes(name) && o.wait && o.workers && !o.dryRun) return 'always';
  return 'if-present';
}

/** The private Redis of one CLI process: opened by the action's first {@link GetConfig} call, stopped after the action. */
export class PrivateRedisSession {
  private redis: PrivateRedis | undefined;
  private readonly onExit = () => this.redis?.stopNow();

  /**
   * For an action's {@link GetConfig}: when REDIS_URL is unset and nothing answers on 127.0.0.1:6379, uses (or
   * starts, per {@link privateRedisNeed}) the private Redis and says so in one line on stderr
   * when it started it.
   * @returns `config` with REDIS_URL pointing at the private Redis, or `config` itself.
   * @throws ConfigError (exit 2) when redis-server is not on PATH or TMDB_FLEET_HOME is unusable;
   * RedisUnavailableError when the private Redis does not start.
   */
  async open(config: Config, command: Command): Promise<Config> {
    const need = privateRedisNeed(command);
    if (need === 'never' || config.redis.urlSet || this.redis) return config;
    if (await answers(DEFAULT_REDIS)) return config;
    const redis = await openPrivateRedis({ home: config.home, start: need });
    if (!redis) return config;
    this.redis = redis;
    if (redis.owned) {
      process.on('exit', this.onExit);
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, this.onSignal);
      writeStderr(`tmdb-fleet: started a private Redis in ${displayHome(redis.home)} (set REDIS_URL to use your own)\n`);
    }
    return { ...config, redis: { ...config.redis, url: redis.url } };
  }

  /** After the action (or its error): stops a Redis this process started and waits until it is gone. */
  async stop(): Promise<void> {
    const redis = this.redis;
    if (!redis) return;
    await redis.stop();
    process.off('exit', this.onExit);
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.off(signal, this.onSignal);
  }

  /**
   * SIGINT/SIGTERM: a command with its own handler (worker, dashboard, `sync --watch`) stops
   * itself first and Redis after it (at exit, or {@link stop}); otherwise Redis is stopped now
   * and the process exits 130 (SIGINT) or 143 (SIGTERM).
   */
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    if (process.listenerCount(signal) > 1) return;
    writeStderr(`tmdb-fleet: ${signal} received, stopping the private Redis\n`);
    void this.stop().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
}
