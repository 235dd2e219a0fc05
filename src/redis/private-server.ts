/**
 * The private Redis of one machine: when REDIS_URL is unset and nothing answers on
 * 127.0.0.1:6379, a command may run its own `redis-server` (from PATH) in TMDB_FLEET_HOME,
 * durable the way the fleet needs (AOF fsynced on every write, `maxmemory-policy noeviction`;
 * README "Operations", Redis), listening on a unix socket only (no TCP port), so a later command
 * in the same directory finds its runs again.
 *
 * Files in the directory: `appendonlydir/` (the AOF), `redis.log`, `redis.sock` (while it runs;
 * under the system's temporary directory when the path would be too long for a socket) and
 * `redis.owner` (the pid of the process that stops it). One process owns a running private
 * Redis; other commands started meanwhile use it and leave it running; an owner that died
 * (SIGKILL) is replaced by the next command that would have started it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { accessSync, closeSync, constants, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createConnection, type NetConnectOpts } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError } from '../errors.js';
import { RedisUnavailableError } from './availability.js';

/** The Redis a command finds when REDIS_URL is unset (README "Configuration"). */
export const DEFAULT_REDIS = { host: '127.0.0.1', port: 6379 } as const;

/** How long a starting private Redis may take to answer PING (an AOF replays first), ms. */
const START_TIMEOUT_MS = 60_000;
/** How long a stopping private Redis may take to exit before it is SIGKILLed, ms. */
const STOP_TIMEOUT_MS = 10_000;
/** Longest socket path used inside the directory (Linux allows 107 bytes, macOS 103). */
const MAX_SOCKET_PATH = 100;

/** A private Redis this process uses. */
export interface PrivateRedis {
  /** What REDIS_URL stands for: the unix socket's absolute path (ioredis reads a path as a socket). */
  url: string;
  /** The state directory, absolute. */
  home: string;
  /** True when this process started it (or took over from an owner that died) and stops it. */
  owned: boolean;
  /**
   * Stops it when owned: SHUTDOWN (the AOF is fsynced and the socket removed), then waits until
   * the process is gone (SIGKILL after 10 s). Nothing when not owned; idempotent.
   */
  stop(): Promise<void>;
  /** Synchronous last resort at process exit: SIGTERM to a started child (Redis shuts down cleanly). */
  stopNow(): void;
}

/** Options of {@link openPrivateRedis}. */
export interface PrivateRedisOptions {
  /** TMDB_FLEET_HOME as configured (relative to the cwd). */
  home: string;
  /** `always`: start one when none runs; `if-present`: only when the directory holds one's data. */
  start: 'always' | 'if-present';
  /** Where `redis-server` is looked up; defaults to `process.env.PATH`. */
  searchPath?: string;
}

/** True when something accepts a connection at `target` within `timeoutMs`. */
export function answers(target: NetConnectOpts, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection(target);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Sends one inline Redis command (`PING`, `SHUTDOWN`) over a fresh connection to `target` (a
 * unix socket path, or host and port); resolves with its first reply line, '' when none came
 * within `timeoutMs`. Never rejects.
 */
export function inlineCommand(target: NetConnectOpts, line: string, timeoutMs = 1_000): Promise<string> {
  return new Promise((resolve) => {
    const socket = createConnection(target);
    let reply = '';
    const done = (value: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(value);
    };
    const timer = setTimeout(() => done(''), timeoutMs);
    socket.once('connect', () => socket.write(`${line}\r\n`));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('utf8');
      const end = reply.indexOf('\r\n');
      if (end >= 0) done(reply.slice(0, end));
    });
    socket.once('error', () => done(''));
    socket.once('close', () => done(reply));
  });
}

/** {@link inlineCommand} on the unix socket at `socketPath`. */
function ask(socketPath: string, line: string, timeoutMs = 1_000): Promise<string> {
  return inlineCommand({ path: socketPath }, line, timeoutMs);
}

/** The absolute path of an executable `name` in `searchPath` (PATH syntax), if any. */
export function findExecutable(name: string, searchPath: string | undefined): string | undefined {
  for (const dir of (searchPath ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

/** The socket of the private Redis of `home` (absolute): inside it, or a short path named after it. */
export function socketPathOf(home: string): string {
  const inside = path.join(home, 'redis.sock');
  if (Buffer.byteLength(inside) <= MAX_SOCKET_PATH) return inside;
  return path.join(tmpdir(), `tmdb-fleet-redis-${createHash('sha1').update(home).digest('hex').slice(0, 12)}.sock`);
}

/** `home` as a person reads it: `./.tmdb-fleet` under the cwd, else absolute. */
export function displayHome(home: string, cwd = process.cwd()): string {
  const rel = path.relative(cwd, home);
  return rel === '' ? '.' : rel.startsWith('..') || path.isAbsolute(rel) ? home : `.${path.sep}${rel}`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** True when process `pid` exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid in an owner file, or undefined when there is none (or it is unreadable). */
function ownerOf(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * True when an owner file whose Redis does not answer is older than a start and a stop take: its
 * pid, alive or not, is not a command starting or stopping that Redis (after a reboot, say).
 */
function stale(file: string): boolean {
  try {
    return Date.now() - statSync(file).mtimeMs > START_TIMEOUT_MS + STOP_TIMEOUT_MS;
  } catch {
    return true;
  }
}

/** Creates `file` holding our pid, only if it does not exist. @returns false when it exists. */
function claim(file: string): boolean {
  try {
    const fd = openSync(file, 'wx');
    writeFileSync(fd, `${process.pid}\n`);
    closeSync(fd);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/** Creates the state directory. @throws ConfigError naming TMDB_FLEET_HOME when it cannot. */
function makeHome(configured: string, home: string): void {
  try {
    mkdirSync(home, { recursive: true });
    accessSync(home, constants.W_OK);
  } catch (err) {
    throw new ConfigError(
      `TMDB_FLEET_HOME=${JSON.stringify(configured)}: ${(err as Error).message}: expected a directory this user can create and write (or set REDIS_URL)`,
    );
  }
}

/**
 * The private Redis of `options.home` for this process, or undefined when none is wanted
 * (`if-present` and the directory holds no private Redis's data). Uses a running one (its
 * owner stops it), takes over one whose owner died, or starts one. Call only when REDIS_URL is
 * unset and nothing answers on 127.0.0.1:6379.
 * @throws ConfigError (exit 2) when `redis-server` is not on PATH or TMDB_FLEET_HOME cannot be
 * created; RedisUnavailableError when the started server exits or does not answer within 60 s.
 */
export async function openPrivateRedis(options: PrivateRedisOptions): Promise<PrivateRedis | undefined> {
  const home = path.resolve(options.home);
  const socket = socketPathOf(home);
  const ownerFile = path.join(home, 'redis.owner');
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const owner = existsSync(ownerFile) ? ownerOf(ownerFile) : undefined;
    const up = (await ask(socket, 'PING')) === '+PONG';
    if (up && (owner === undefined || alive(owner))) return handle(home, socket, false);
    if (up && owner !== undefined) {
      writeFileSync(ownerFile, `${process.pid}\n`); // its owner died: we stop it now
      return handle(home, socket, true);
    }
    if (owner !== undefined && alive(owner) && !stale(ownerFile)) {
      // Being started (or stopped) by another command: wait for it.
      if (Date.now() > deadline) throw new RedisUnavailableError(`the private Redis in ${home} (owned by process ${owner}) does not answer on ${socket}`);
      await sleep(100);
      continue;
    }
    if (options.start === 'if-present' && !existsSync(path.join(home, 'appendonlydir'))) return undefined;
    const bin = findExecutable('redis-server', options.searchPath ?? process.env.PATH);
    if (!bin) {
      throw new ConfigError(
        'REDIS_URL is unset, nothing answers on 127.0.0.1:6379 and redis-server is not on PATH: install Redis (apt install redis-server, or brew install redis) or set REDIS_URL to your Redis',
      );
    }
    makeHome(options.home, home);
    if (owner !== undefined) rmSync(ownerFile, { force: true }); // a dead or stale owner's file
    if (!claim(ownerFile)) continue; // another command claimed it first: use its Redis
    try {
      const child = await startServer(bin, home, socket);
      return handle(home, socket, true, child);
    } catch (err) {
      rmSync(ownerFile, { force: true });
      throw err;
    }
  }
}

/**
 * Spawns `redis-server` in `home` (its own process group, so a Ctrl-C reaches the command, which
 * stops it last) and waits until it answers PING.
 * @throws RedisUnavailableError with the log's last line when it exits or stays silent.
 */
async function startServer(bin: string, home: string, socket: string): Promise<ChildProcess> {
  const args = [
    '--port', '0',
    '--unixsocket', socket,
    '--unixsocketperm', '700',
    '--dir', home,
    '--appendonly', 'yes',
    '--appendfsync', 'always',
    '--maxmemory-policy', 'noeviction',
    '--save', '',
    '--daemonize', 'no',
    '--logfile', path.join(home, 'redis.log'),
  ];
  const child = spawn(bin, args, { cwd: home, detached: true, stdio: 'ignore' });
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = `exited (${signal ?? `code ${code}`})`));
  child.once('error', (err) => (exited = err.message));
  child.unref();
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (exited === undefined && Date.now() < deadline) {
    if ((await ask(socket, 'PING')) === '+PONG') return child;
    await sleep(50);
  }
  if (exited === undefined) child.kill('SIGKILL');
  const log = path.join(home, 'redis.log');
  const last = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').pop() : undefined;
  throw new RedisUnavailableError(
    `the private Redis in ${home} ${exited ?? `did not answer within ${START_TIMEOUT_MS / 1000} s`}${last ? `: ${last}` : ''} (see ${log}, or set REDIS_URL)`,
  );
}

/** The {@link PrivateRedis} of a running server; `child` when this process spawned it. */
function handle(home: string, socket: string, owned: boolean, child?: ChildProcess): PrivateRedis {
  let stopping: Promise<void> | undefined;
  const gone = child ? once(child, 'exit').then(() => undefined) : undefined;
  const running = () => child !== undefined && child.exitCode === null && child.signalCode === null;
  const stop = async (): Promise<void> => {
    await ask(socket, 'SHUTDOWN', 5_000);
    const deadline = Date.now() + STOP_TIMEOUT_MS;
    if (gone) {
      const timer = setTimeout(() => child?.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await gone;
      clearTimeout(timer);
    } else {
      while (Date.now() < deadline && (await answers({ path: socket }, 200))) await sleep(50);
    }
    rmSync(path.join(home, 'redis.owner'), { force: true });
  };
  return {
    url: socket,
    home,
    owned,
    stop: () => (owned ? (stopping ??= stop()) : Promise.resolve()),
    stopNow: () => {
      if (owned && running()) child?.kill('SIGTERM');
    },
  };
}
