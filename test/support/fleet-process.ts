/**
 * Runs the built CLI (`dist/src/cli.js`) as real child processes: long-running workers that
 * tests can SIGKILL and restart, and one-shot commands whose output and exit code they read.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The compiled CLI entry; `npm test` builds it first. */
export const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/src/cli.js').replace(
  `${path.sep}dist${path.sep}dist${path.sep}`,
  `${path.sep}dist${path.sep}`,
);

/** The Node flags of the CLI's shebang (`#!/usr/bin/env -S node <flags>`), so tests run it as the bin does. */
export const CLI_NODE_FLAGS: readonly string[] = (() => {
  const shebang = readFileSync(CLI, 'utf8').split('\n', 1)[0] ?? '';
  const m = /^#!\S*env -S node(.*)$/.exec(shebang);
  return m?.[1]?.trim() ? m[1].trim().split(/\s+/) : [];
})();

/** Arguments for `spawn(process.execPath, cliArgs(...))`: the shebang's flags, the CLI, `args`. */
export function cliArgs(...args: string[]): string[] {
  return [...CLI_NODE_FLAGS, CLI, ...args];
}

/** A running `tmdb-fleet worker` process. */
export interface WorkerProcess {
  child: ChildProcess;
  /** stderr so far (pino JSON lines). */
  output(): string;
  /** SIGKILL, like a crash; resolves when the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** `kill` (SIGKILL) and `stop` (SIGTERM, resolving to the exit code) of a spawned process. */
export function controls(child: ChildProcess, exited: Promise<unknown[]>): Pick<WorkerProcess, 'kill' | 'stop'> {
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    async kill() {
      if (alive()) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (alive()) child.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      return code;
    },
  };
}

/** Starts `tmdb-fleet worker ...args` with `env` added to the current environment. */
export function startWorker(env: Record<string, string>, args: string[] = []): WorkerProcess {
  const child = spawn(process.execPath, cliArgs('worker', ...args), {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = once(child, 'exit');
  return {
    child,
    output: () => out,
    ...controls(child, exited),
  };
}

/** Result of a one-shot CLI command. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A one-shot CLI command running in the background. */
export interface CliProcess {
  child: ChildProcess;
  /** stdout so far. */
  stdout(): string;
  /** stderr so far. */
  stderr(): string;
  /** Resolves when the process exits (SIGKILLed after the timeout). */
  result: Promise<CliResult>;
}

/** Starts `tmdb-fleet ...args` without waiting for it (killed after `timeoutMs`), in `options.cwd` if given. */
export function startCli(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 120_000,
  options: { cwd?: string } = {},
): CliProcess {
  const child = spawn(process.execPath, cliArgs(...args), {
    cwd: options.cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const result = (async () => {
    // 'close': the process exited and its stdout and stderr are fully read.
    const [code] = (await once(child, 'close')) as [number | null];
    clearTimeout(timer);
    return { code, stdout, stderr };
  })();
  return { child, stdout: () => stdout, stderr: () => stderr, result };
}

/** Runs `tmdb-fleet ...args` to completion (killed after `timeoutMs`), in `options.cwd` if given. */
export async function runCli(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 120_000,
  options: { cwd?: string } = {},
): Promise<CliResult> {
  return startCli(args, env, timeoutMs, options).result;
}

/** The JSON object on the last non-empty line of a command's stdout. */
export function lastJsonLine<T = Record<string, unknown>>(stdout: string): T {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1] ?? '{}') as T;
}

/** A running `tmdb-fleet dashboard` process and the URL it said it listens on. */
export interface DashboardProcess extends WorkerProcess {
  url: string;
}

/** Starts `tmdb-fleet dashboard --port 0` with `env` and waits for its "dashboard at <url>" line. */
export async function startDashboardProcess(env: Record<string, string>, timeoutMs = 20_000): Promise<DashboardProcess> {
  const child = spawn(process.execPath, cliArgs('dashboard', '--port', '0'), {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = once(child, 'exit');
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`dashboard did not start within ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /dashboard at (http:\/\/\S+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then(() => reject(new Error(`dashboard exited:\n${out}`)));
  });
  return {
    child,
    url,
    output: () => out,
    ...controls(child, exited),
  };
}
