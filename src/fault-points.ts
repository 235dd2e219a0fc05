/**
 * Named fault points: places in the code where a test can have the process SIGKILLed (or
 * stopped) deterministically, between two steps whose order the guarantees depend on (e.g.
 * between claiming a batch and PUTting it). Off unless `FAULT_POINTS` names them (tests only);
 * a point costs one Map lookup when off.
 *
 * `FAULT_POINTS=write:after-claim@3,final:after-manifest` kills the process the 3rd time it
 * reaches `write:after-claim`, or the 1st time it reaches `final:after-manifest`. Before dying
 * it writes `tmdb-fleet: fault point <name> reached (pass <n>): SIGKILL` to stderr, so a test
 * can tell the fault was injected. `name[@pass]=stop` SIGSTOPs the process there instead (the
 * line ends in `SIGSTOP`): the test acts while it is frozen at that point, then SIGCONTs it.
 */

/** Every fault point in the code. */
export const FAULT_POINTS = [
  /** write worker: a batch is claimed in Redis, not yet PUT. */
  'write:after-claim',
  /** write worker: a batch is PUT, not yet committed in Redis. */
  'write:after-put',
  /** final write job: everything staged and every open batch is stored, the manifest not yet built. */
  'final:drained',
  /** final write job: the run is finalizing, its manifest not yet written. */
  'final:before-manifest',
  /** final write job: the manifest is written, the run not yet marked finished. */
  'final:after-manifest',
  /** details worker: a document is staged, its write jobs not yet enqueued. */
  'details:after-stage',
  /** discover worker: a page's titles are enqueued, the page not yet marked done. */
  'discover:after-fan-out',
  /** any process reconciling a run with the lake: it holds the run's reconcile lock, has listed nothing yet. */
  'reconcile:locked',
] as const;
export type FaultPointName = (typeof FAULT_POINTS)[number];

/** What an armed point does to the process: SIGKILL (`kill`, the default) or SIGSTOP (`stop`). */
export type FaultAction = 'kill' | 'stop';

/** An armed fault point: on which pass, doing what. */
export interface ArmedFault {
  pass: number;
  action: FaultAction;
}

const armed = new Map<string, ArmedFault & { passes: number }>();

/**
 * Parses a `FAULT_POINTS` value (`name[@pass][=stop]`, comma-separated).
 * @throws Error naming an unknown point, a bad pass number or an unknown action.
 */
export function parseFaultPoints(spec: string | undefined): Map<FaultPointName, ArmedFault> {
  const out = new Map<FaultPointName, ArmedFault>();
  for (const item of (spec ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const [point = '', action = 'kill'] = item.split('=');
    const [name = '', pass = '1'] = point.split('@');
    if (!(FAULT_POINTS as readonly string[]).includes(name)) {
      throw new Error(`"${name}" is not a fault point: expected some of ${FAULT_POINTS.join(', ')}`);
    }
    if (!/^[1-9]\d*$/.test(pass)) throw new Error(`"${item}" has a bad pass number: expected name@N, N ≥ 1`);
    if (action !== 'kill' && action !== 'stop') throw new Error(`"${item}" has a bad action: expected =kill or =stop`);
    out.set(name as FaultPointName, { pass: Number(pass), action });
  }
  return out;
}

/** Arms the fault points of a `FAULT_POINTS` value (validated by the config). */
export function armFaultPoints(spec: string | undefined): void {
  armed.clear();
  for (const [name, fault] of parseFaultPoints(spec)) armed.set(name, { ...fault, passes: 0 });
}

/**
 * Passes a fault point: SIGKILLs (or SIGSTOPs) this process when the point is armed for this
 * pass. A stopped process goes on from here once it gets SIGCONT.
 */
export function faultPoint(name: FaultPointName): void {
  const point = armed.get(name);
  if (!point) return;
  point.passes++;
  if (point.passes !== point.pass) return;
  const signal = point.action === 'stop' ? 'SIGSTOP' : 'SIGKILL';
  process.stderr.write(`tmdb-fleet: fault point ${name} reached (pass ${point.passes}): ${signal}\n`);
  process.kill(process.pid, signal);
}
