/**
 * Reconciling a run with the lake, for when Redis lost acknowledged state (DESIGN guarantee 8):
 * with AOF `everysec`, or after a failover to a lagging replica, Redis can forget its last batch
 * claims, so the run's sequence number goes back while the lake already holds objects under the
 * next keys. Data objects are create-only, so such a key is never overwritten; this brings Redis
 * in line with what the lake holds instead:
 *
 * 1. under the run's lock (Redis SET NX with an expiry), list the run's data objects in the lake
 *    (`<prefix>/<kind>/YYYY/MM/DD/<runId>-<seq>.jsonl.gz`, each UTC day from the run's start to
 *    now) and read those Redis does not list among the run's objects;
 * 2. in one Lua script (`lua/reconcile-11.lua`): register them as the run's objects, count every
 *    id they hold as fetched (ids in the lake are written and never written again), take those
 *    ids' documents out of the staged list and open batches, and raise the sequence number past
 *    the highest in the lake.
 *
 * Who calls it: a write job whose create-only PUT met an object with other content, or whose
 * commit Redis does not recognise; each process before its first claim of a run after it
 * (re)connected to Redis; and the final write job before it drains the run.
 */
import { randomBytes } from 'node:crypto';
import { faultPoint } from '../fault-points.js';
import { decodeJsonLines } from '../lake/encode.js';
import { dataKeyBase } from '../lake/keys.js';
import type { ObjectStore } from '../lake/object-store.js';
import { parseRunId } from './run-id.js';
import { scripts, type ReconcileResult } from './scripts.js';
import type { RunContext } from './context.js';

/**
 * Lease of a run's reconcile lock, ms: its holder renews it every third of this while it works,
 * so a holder that dies (SIGKILL) holds up the other processes' writes for at most this long.
 */
export const RECONCILE_LOCK_MS = 10_000;

/** How long a reconcile waits for a lock that live holders keep renewing, ms, before it gives up (its job retries). */
export const RECONCILE_WAIT_MS = 600_000;

/** A lease this close to its end counts as lapsed, ms. */
const LOCK_MARGIN_MS = 1_000;

/** How often a reconcile waiting for the lock tries again, ms. */
const LOCK_POLL_MS = 100;

const DAY_MS = 86_400_000;

/** Where a run's data objects are. */
export interface RunLake {
  store: Pick<ObjectStore, 'list' | 'get'>;
  /** The lake prefix the run writes under. */
  prefix: string;
  /** The run's kind (`movie`, `tv`): the key segment after the prefix. */
  kind: string;
}

/** A data object of the run found in the lake. */
interface LakeObject {
  key: string;
  seq: number;
}

/**
 * The run's data objects in the lake: under each UTC day's key base from the day the run started
 * to `now`'s day (one listing per day).
 */
async function listRunObjects(lake: RunLake, runId: string, now: Date): Promise<LakeObject[]> {
  const start = Math.floor(parseRunId(runId).startedAt.getTime() / DAY_MS);
  const end = Math.floor(now.getTime() / DAY_MS);
  const out: LakeObject[] = [];
  for (let day = start; day <= end; day++) {
    const base = dataKeyBase(lake.prefix, lake.kind, runId, new Date(day * DAY_MS));
    for (const key of await lake.store.list(base)) {
      const m = /^(\d+)\.jsonl\.gz$/.exec(key.slice(base.length));
      if (m) out.push({ key, seq: Number(m[1]) });
    }
  }
  return out;
}

/**
 * Runs `work` under the run's reconcile lock (SET NX PX, a lease renewed every third of
 * {@link RECONCILE_LOCK_MS}), waiting while another process holds it.
 * @throws Error after {@link RECONCILE_WAIT_MS} of waiting, or when the lease lapsed under
 * `work` (Redis unreachable, the event loop blocked) before `work` called `assertHeld`: the job retries.
 */
async function underLock<T>(ctx: RunContext, key: string, work: (assertHeld: () => void) => Promise<T>): Promise<T> {
  const token = randomBytes(8).toString('hex');
  const deadline = Date.now() + RECONCILE_WAIT_MS;
  let sentAt = Date.now();
  while ((await ctx.redis.set(key, token, 'PX', RECONCILE_LOCK_MS, 'NX')) !== 'OK') {
    if (Date.now() > deadline) throw new Error(`reconcile lock ${key} still held after ${RECONCILE_WAIT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
    sentAt = Date.now();
  }
  // Held until the lease of the last renewal Redis confirmed, counted from when it was sent.
  let heldUntil = sentAt + RECONCILE_LOCK_MS;
  const renew = setInterval(() => {
    const at = Date.now();
    scripts.extendLock.run(ctx.redis, [key], [token, RECONCILE_LOCK_MS]).then(
      (held) => (held ? (heldUntil = at + RECONCILE_LOCK_MS) : (heldUntil = 0)),
      () => undefined,
    );
  }, RECONCILE_LOCK_MS / 3);
  const assertHeld = () => {
    if (Date.now() > heldUntil - LOCK_MARGIN_MS) throw new Error(`reconcile lock ${key} lapsed while held: reconciling again`);
  };
  try {
    return await work(assertHeld);
  } finally {
    clearInterval(renew);
    await scripts.unlock.run(ctx.redis, [key], [token]);
  }
}

/** Reconciliation operations of the run store. */
export function reconciliation(ctx: RunContext) {
  return {
    /**
     * Brings the run's Redis state in line with its data objects in the lake (see the module
     * comment). Cheap when Redis knows every object: one listing per day of the run and one
     * read of the run's object list.
     * @param now - the last UTC day to list.
     * @returns what changed in Redis; `tailArm` non-zero: enqueue that tail flush.
     * @throws Error when the lock stays held longer than {@link RECONCILE_WAIT_MS} or lapsed under it; lake and Redis errors.
     */
    async reconcile(runId: string, lake: RunLake, now = new Date()): Promise<ReconcileResult> {
      const k = ctx.keys(runId);
      return underLock(ctx, k.lock, async (assertHeld) => {
        faultPoint('reconcile:locked');
        const listed = await listRunObjects(lake, runId, now);
        const known = new Set((await ctx.redis.hvals(k.objects)).map((v) => (JSON.parse(v) as { key: string }).key));
        const unknown: { seq: number; key: string; ids: number[] }[] = [];
        for (const o of listed.filter((l) => !known.has(l.key))) {
          const docs = decodeJsonLines(await lake.store.get(o.key)) as { id: number }[];
          unknown.push({ ...o, ids: docs.map((d) => d.id) });
        }
        const maxSeq = listed.reduce((max, o) => Math.max(max, o.seq), 0);
        assertHeld();
        return scripts.reconcile.run(
          ctx.redis,
          [k.run, k.discovered, k.fetched, k.notfound, k.failed, k.staged, k.claims, k.open, k.batches, k.objects, k.tail],
          [JSON.stringify(unknown), maxSeq, ctx.tailArmTtlMs],
        );
      });
    },
  };
}
