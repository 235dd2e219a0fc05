/**
 * Runs processes in a fresh network namespace (`unshare -rn`: a user namespace mapping us to
 * root, and a network namespace with its own loopback), where nothing listens on
 * 127.0.0.1:6379 even when the machine runs a Redis there. Nothing here skips: a machine where
 * the namespace cannot be made fails the tests that need it, loudly.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { findExecutable } from '../../src/redis/private-server.js';
import { CLI, cliArgs, type CliResult } from './fleet-process.js';
import type { DriverOutput, DriverSpec } from './netns-driver.js';

/** The compiled driver (`npm run build` compiles test/ next to src/). */
const DRIVER = path.join(path.dirname(CLI), '..', 'test', 'support', 'netns-driver.js');

/** Brings the namespace's loopback up, then runs the arguments after it. */
const LOOPBACK_UP = 'ip link set lo up && exec "$0" "$@"';

/**
 * The absolute path of `unshare`, after checking that a namespace with a working loopback and a
 * free 127.0.0.1:6379 can be made here.
 * @throws Error saying what is missing (util-linux's unshare, iproute2's ip, unprivileged user
 * namespaces) and that these tests need it.
 */
export function requireNetns(): string {
  const unshare = findExecutable('unshare', process.env.PATH);
  const probe = `require('net').createServer().listen(6379, '127.0.0.1', function () { this.close(); console.log('ok'); })`;
  const r = unshare
    ? spawnSync(unshare, ['-rn', 'sh', '-c', LOOPBACK_UP, process.execPath, '-e', probe], { encoding: 'utf8', timeout: 10_000 })
    : undefined;
  if (!unshare || r?.status !== 0 || r.stdout.trim() !== 'ok') {
    throw new Error(
      `these tests run the CLI in a fresh network namespace (unshare -rn, then ip link set lo up) so that 127.0.0.1:6379 is free; ` +
        `that failed here (${unshare ? `exit ${r?.status}: ${r?.stderr.trim() || r?.error?.message}` : 'unshare is not on PATH'}): ` +
        'install util-linux and iproute2 and allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1)',
    );
  }
  return unshare;
}

/** Runs `argv` under `unshare -rn` (loopback down unless `loopback`) with exactly `env`. */
async function run(
  unshare: string,
  argv: string[],
  env: Record<string, string>,
  options: { loopback: boolean; cwd?: string },
  timeoutMs: number,
): Promise<CliResult> {
  const args = options.loopback ? ['-rn', 'sh', '-c', LOOPBACK_UP, ...argv] : ['-rn', ...argv];
  const child = spawn(unshare, args, { env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code] = (await once(child, 'close')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/**
 * Runs the driver (`netns-driver.ts`) in a fresh namespace with exactly `env`: a fake TMDB on
 * its loopback and `spec.steps`, one after the other.
 * @throws Error with the driver's output when it fails.
 */
export async function driveInNetns(unshare: string, spec: DriverSpec, env: Record<string, string>, timeoutMs = 300_000): Promise<DriverOutput> {
  const r = await run(unshare, [process.execPath, DRIVER, JSON.stringify(spec)], env, { loopback: true }, timeoutMs);
  const last = r.stdout.trim().split('\n').pop() ?? '';
  if (r.code !== 0 || !last.startsWith('{')) throw new Error(`netns driver exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(last) as DriverOutput;
}

/** Runs `tmdb-fleet ...args` in a fresh namespace (loopback down) with exactly `env`, in `cwd`. */
export async function cliInNetns(unshare: string, args: string[], env: Record<string, string>, cwd: string, timeoutMs = 60_000): Promise<CliResult> {
  return run(unshare, [process.execPath, ...cliArgs(...args)], env, { loopback: false, cwd }, timeoutMs);
}
