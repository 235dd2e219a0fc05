/**
 * Starts a real, throw-away `redis-server` (the Debian binary on PATH) on a free loopback port
 * for integration tests. No RDB snapshots; AOF only when asked. The process is SIGKILLed if the
 * test process exits without stopping it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inlineCommand } from '../../src/redis/private-server.js';

export interface RedisServerOptions {
  /** Turn AOF persistence on (survives `kill()` + `restart()`). @defaultValue false */
  appendonly?: boolean;
  /** `appendfsync` policy when AOF is on. @defaultValue everysec */
  appendfsync?: 'always' | 'everysec' | 'no';
  /** Working directory (AOF lives here); defaults to a fresh temporary directory. */
  dir?: string;
  /** Require this password (`requirepass`); the url then carries it. */
  requirepass?: string;
  /** Also listen with TLS on a second free port (PEM file paths); see {@link RedisServer.tlsUrl}. */
  tls?: { certFile: string; keyFile: string; caFile: string };
}

export interface RedisServer {
  /** `redis://[:password@]127.0.0.1:<port>` */
  url: string;
  /** `rediss://[:password@]127.0.0.1:<tlsPort>` when started with `tls`. */
  tlsUrl: string | undefined;
  port: number;
  /** Graceful stop (SHUTDOWN NOSAVE, then SIGTERM if needed); resolves once the process exited. */
  stop(): Promise<void>;
  /** SIGKILL, like a crash; returns at once. */
  kill(): void;
  /** Starts again on the same port and dir (stopping the running process first if any). */
  restart(): Promise<void>;
  /**
   * Copies the data dir's persistence files (AOF directory, RDB) as they are now, while the
   * server runs, into a new temporary directory: what a lagging replica or an AOF with
   * `appendfsync everysec` would still hold after a crash. A command half-written when copied
   * is dropped at load (`aof-load-truncated yes`, Redis's default).
   * @returns the copy's directory, for {@link RedisServer.restartFrom}.
   */
  snapshot(): Promise<string>;
  /**
   * Rolls the server back: stops it, replaces its persistence files by those of `snapshot`
   * and starts it again on the same port: everything acknowledged after the copy is lost.
   */
  restartFrom(snapshot: string): Promise<void>;
}

/** Persistence files of a data dir. */
const PERSISTENCE = ['appendonlydir', 'dump.rdb'];

/** Copies the persistence files found in `from` to `to`. */
function copyPersistence(from: string, to: string): void {
  for (const name of PERSISTENCE) {
    const source = join(from, name);
    if (!existsSync(source)) continue;
    cpSync(source, join(to, name), { recursive: true });
  }
}

/** A TCP port nobody listens on right now. */
async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const address = srv.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** {@link inlineCommand} on 127.0.0.1:`port`. */
function command(port: number, line: string, timeoutMs = 500): Promise<string> {
  return inlineCommand({ host: '127.0.0.1', port }, line, timeoutMs);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts `redis-server --port <free> --save "" --appendonly <yes|no>` and waits until PING answers.
 * @throws Error with the server's output when it exits or does not answer within 10 s.
 */
export async function startRedisServer(opts: RedisServerOptions = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'tmdb-fleet-redis-'));
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--save', '',
    '--appendonly', opts.appendonly ? 'yes' : 'no',
    '--appendfsync', opts.appendfsync ?? 'everysec',
    '--dir', dir,
    '--daemonize', 'no',
    '--protected-mode', 'no',
  ];
  if (opts.requirepass) args.push('--requirepass', opts.requirepass);
  const tlsPort = opts.tls ? await freePort() : undefined;
  if (opts.tls && tlsPort) {
    args.push(
      '--tls-port', String(tlsPort),
      '--tls-cert-file', opts.tls.certFile,
      '--tls-key-file', opts.tls.keyFile,
      '--tls-ca-cert-file', opts.tls.caFile,
      '--tls-auth-clients', 'no',
    );
  }
  const ping = async (): Promise<boolean> =>
    opts.requirepass
      ? (await command(port, `AUTH ${opts.requirepass}`)) === '+OK'
      : (await command(port, 'PING')) === '+PONG';
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const killOnExit = () => child?.kill('SIGKILL');
  let guarded = false;
  const guard = (on: boolean) => {
    if (on && !guarded) process.on('exit', killOnExit);
    if (!on && guarded) process.off('exit', killOnExit);
    guarded = on;
  };

  const launch = async (): Promise<void> => {
    let output = '';
    let gone = false;
    const proc = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    proc.stdout?.on('data', (c: Buffer) => (output = (output + c.toString('utf8')).slice(-4_000)));
    proc.stderr?.on('data', (c: Buffer) => (output = (output + c.toString('utf8')).slice(-4_000)));
    exited = new Promise<void>((resolve) => {
      proc.once('exit', () => {
        gone = true;
        if (child === proc) child = undefined;
        resolve();
      });
      proc.once('error', (err) => {
        output += `\n${err.message}`;
        gone = true;
        if (child === proc) child = undefined;
        resolve();
      });
    });
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (gone) throw new Error(`redis-server on port ${port} exited at start:\n${output}`);
      // While an AOF loads, redis answers -LOADING; keep waiting for +PONG.
      if (await ping()) return;
      await sleep(50);
    }
    proc.kill('SIGKILL');
    throw new Error(`redis-server on port ${port} did not answer PING within 10 s:\n${output}`);
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    if (!proc) return;
    const wait = exited;
    await command(port, 'SHUTDOWN NOSAVE', 1_000);
    const timer = setTimeout(() => proc.kill('SIGTERM'), 2_000);
    const hard = setTimeout(() => proc.kill('SIGKILL'), 5_000);
    await wait;
    clearTimeout(timer);
    clearTimeout(hard);
  };

  guard(true);
  await launch().catch((err: unknown) => {
    guard(false);
    throw err;
  });
  const auth = opts.requirepass ? `:${encodeURIComponent(opts.requirepass)}@` : '';
  return {
    url: `redis://${auth}127.0.0.1:${port}`,
    tlsUrl: tlsPort ? `rediss://${auth}127.0.0.1:${tlsPort}` : undefined,
    port,
    stop: async () => {
      await stop();
      guard(false);
    },
    kill() {
      child?.kill('SIGKILL');
    },
    async restart() {
      await stop();
      guard(true);
      await launch();
    },
    async snapshot() {
      const copy = mkdtempSync(join(tmpdir(), 'tmdb-fleet-redis-snapshot-'));
      copyPersistence(dir, copy);
      return copy;
    },
    async restartFrom(snapshot) {
      await stop();
      for (const name of PERSISTENCE) rmSync(join(dir, name), { recursive: true, force: true });
      copyPersistence(snapshot, dir);
      guard(true);
      await launch();
    },
  };
}
