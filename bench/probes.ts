/**
 * Process and Redis probes shared by the bench's scenarios and contenders: CPU and memory of a
 * process from /proc, the CPU of this process's reaped children, the whole machine's CPU,
 * Redis INFO fields and command counts, a periodic sampler, and the bookkeeping that lets an
 * interrupted bench kill every child it started.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

/** Clock ticks per second of /proc/<pid>/stat times (Linux: 100). */
export const CLK_TCK = 100;

/** utime + stime of a process in seconds, or undefined once it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds (user + sys) of every child of this process that has exited and been reaped so
 * far, grandchildren included (cutime + cstime of /proc/self/stat). The difference across a
 * contender's run, taken once all its processes are gone, is the CPU of all of them, start-up
 * and shutdown included.
 */
export function reapedChildrenCpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) / CLK_TCK;
}

/** A `Vm…: N kB` field of /proc/<pid>/status in bytes, or undefined once the process is gone. */
function statusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Resident set size of a process in bytes, or undefined once it is gone. */
export function rssBytes(pid: number): number | undefined {
  return statusBytes(pid, 'VmRSS');
}

/** Peak resident set size of a process so far (VmHWM) in bytes, or undefined once it is gone. */
export function peakRssBytes(pid: number): number | undefined {
  return statusBytes(pid, 'VmHWM');
}

/** Busy and total CPU seconds of the whole machine (all processes, ours or not), from /proc/stat. */
export function machineCpu(): { busy: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    return { busy: (total - idle) / CLK_TCK, total: total / CLK_TCK };
  } catch {
    return { busy: Number.NaN, total: Number.NaN };
  }
}

/** One field of `INFO <section>` as a number. */
export async function infoField(redis: Redis, section: string, field: string): Promise<number> {
  const text = await redis.info(section);
  const m = new RegExp(`^${field}:(\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : Number.NaN;
}

/** Calls per Redis command so far (`INFO commandstats`), e.g. {evalsha: 1234, bzpopmin: 56}. */
export async function commandCalls(redis: Redis): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const m of (await redis.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

/**
 * Redis commands per title by command between two {@link commandCalls} snapshots, less `own`:
 * the calls the bench itself made in between (its samplers' LLENs, say).
 */
export function callsPerTitle(before: Record<string, number>, after: Record<string, number>, titles: number, own: Record<string, number> = {}): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [cmd, n] of Object.entries(after)) {
    const delta = n - (before[cmd] ?? 0) - (own[cmd] ?? 0);
    if (delta > 0) out[cmd] = delta / titles;
  }
  return out;
}

/** The fleet's own Redis commands per title (the bench's INFO and CLIENT calls left out). */
export function fleetCallsPerTitle(perTitle: Record<string, number>): [string, number][] {
  return Object.entries(perTitle).filter(([cmd]) => cmd !== 'info' && !cmd.startsWith('client'));
}

/** Runs `tick` every `ms` (never two at once) until the returned stop function is called. */
export function every(ms: number, tick: () => Promise<void> | void): () => Promise<void> {
  let running: Promise<void> = Promise.resolve();
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    running = Promise.resolve()
      .then(tick)
      .catch(() => undefined)
      .finally(() => {
        busy = false;
      });
  }, ms);
  return async () => {
    clearInterval(timer);
    await running;
    await tick();
  };
}

/** Child processes alive right now (workers, the CLI, contenders), for {@link killChildren}. */
const children = new Set<ChildProcess>();

/** SIGKILLs every child process still running (on SIGINT/SIGTERM of the bench). */
export function killChildren(): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** Tracks a child until it exits, so {@link killChildren} can stop it. */
export function track(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}
