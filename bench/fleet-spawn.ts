/**
 * Starts the fleet's processes for the bench: `tmdb-fleet worker` processes and the one-shot
 * CLI, through the real CLI (`dist/src/cli.js`) or through a bench entry that runs the same CLI
 * with another limiter (`bench/fleet-cli.ts`); waits until the workers listen.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { cliArgs, controls, type WorkerProcess } from '../test/support/fleet-process.js';
import { cpuSeconds, track } from './probes.js';

/** Node arguments that run `tmdb-fleet <args>` (the CLI's own, or a bench entry's). */
export type NodeArgs = (...args: string[]) => string[];

/** The real CLI, with its shebang's Node flags. */
export const realCli: NodeArgs = cliArgs;

/** Starts `tmdb-fleet worker` through `nodeArgs` with `env` added to the current environment. */
export function startFleetWorker(nodeArgs: NodeArgs, env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, nodeArgs('worker'), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return { child, output: () => out, ...controls(child, once(child, 'exit')) };
}

/** Waits until `n` worker processes have a BullMQ worker on the details queue. */
export async function waitForWorkers(url: string, prefix: string, n: number, workers: WorkerProcess[], timeoutMs = 30_000): Promise<void> {
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  const queue = new Queue('details', { connection, prefix });
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const dead = workers.find((w) => w.child.exitCode !== null || w.child.signalCode !== null);
      if (dead) throw new Error(`a worker exited at start:\n${dead.output().slice(-2_000)}`);
      if ((await queue.getWorkers()).length >= n) return;
      if (Date.now() > deadline) throw new Error(`workers not ready after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

/**
 * Waits until the worker processes are idle: their CPU time together grew by less than 0.02 s
 * (10 % of a core) over the last 200 ms — started, connected and waiting for jobs, as the
 * workers of a standing fleet (`docker compose up`) are when a run is started. At most
 * `timeoutMs`, then it returns anyway.
 */
export async function waitForIdle(workers: WorkerProcess[], timeoutMs = 10_000): Promise<void> {
  const total = () => workers.reduce((sum, w) => sum + (cpuSeconds(w.child.pid ?? -1) ?? 0), 0);
  const deadline = Date.now() + timeoutMs;
  let last = total();
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    const now = total();
    if (now - last < 0.02) return;
    last = now;
  }
}

/** Exit code and output of a one-shot process; `timedOut` when it was killed for running too long. */
export interface OneShot {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/**
 * Runs `node <argv>` to its exit (SIGKILLed after `timeoutMs`), telling the caller the child's
 * pid as soon as it has one.
 */
export async function runWithPid(argv: string[], env: Record<string, string>, timeoutMs: number, onPid: (pid: number) => void): Promise<OneShot> {
  const child = spawn(process.execPath, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  if (child.pid !== undefined) onPid(child.pid);
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  // 'close': the process exited and its stdout and stderr are fully read.
  const [code] = (await once(child, 'close')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr, timedOut };
}
