/**
 * Sync producer (S3 → S3): checks both buckets, records a `sync` run and either
 * - lists the source (ListObjectsV2, paginated) beside the destination and enqueues one copy
 *   job per object missing or different there (ETag/size), recording the others as skipped; or
 * - registers a watch (`--watch`): the S3 event webhook then enqueues a copy per new object
 *   until the watch is stopped.
 *
 * Run bookkeeping: plan keys `copy#<source key>` (one per copy) plus a guard that stays
 * open while the producer still adds work (`guard#list` during the listing, `guard#watch` while watching),
 * so the run completes (and gets its manifest) only once every copy is done and no more can come.
 *
 * Watches (registry and leases): jobs/watch.ts.
 */
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { checkBucket } from '../lake/store.js';
import type { Fleet } from '../fleet.js';
import { RunRunningError, UsageError } from '../errors.js';
import { enqueueCopies, type CopyJobData } from '../jobs/copy.js';
import { formatPlanKey } from '../jobs/plan-key.js';
import { enqueueFinal } from '../jobs/write.js';
import { bareEtag, checkNoOverlap, destinationKey, formatS3Url, isBelow, parseS3Url, type S3Location } from '../lake/s3-url.js';
import { closeWatch, holdsLease, listWatches, registerWatch, watchOf, WATCH_GUARD, type Watch } from '../jobs/watch.js';
import { newRunId } from '../runs/run-id.js';
import type { RunParams } from '../runs/types.js';

/** Guard of a listing sync: done when the listing has enqueued everything. */
const LIST_GUARD = formatPlanKey({ type: 'guard', guard: 'list' });
/** Pause between checks while the copy queue is deeper than the bound, ms. */
const BACKPRESSURE_POLL_MS = 250;

/** A source and destination, parsed and checked. */
export interface SyncArgs {
  source: S3Location;
  destination: S3Location;
}

/**
 * Parses and checks `sync` arguments.
 * @throws UsageError for a bad `s3://` URL or overlapping source and destination.
 */
export function parseSyncArgs(source: string | undefined, destination: string | undefined): SyncArgs {
  if (!source || !destination) {
    throw new UsageError('sync needs a source and a destination: tmdb-fleet sync s3://src-bucket/prefix s3://dst-bucket/prefix');
  }
  const args = { source: parseS3Url(source, 'source'), destination: parseS3Url(destination, 'destination') };
  checkNoOverlap(args.source, args.destination);
  return args;
}


/**
 * Checks the lake (for the manifest) and both buckets, then records a running sync run.
 * @throws LakeError; UsageError when the same sync is already running (without `force`).
 */
async function createSyncRun(
  fleet: Fleet,
  client: S3Client,
  args: SyncArgs,
  mode: 'list' | 'watch',
  force: boolean,
): Promise<string> {
  await fleet.store.check();
  await checkSyncBucket(client, args.source.bucket, 'source');
  await checkSyncBucket(client, args.destination.bucket, 'destination');
  const params: RunParams = {
    kind: 'sync',
    params: { source: formatS3Url(args.source), destination: formatS3Url(args.destination), mode },
  };
  const runId = newRunId('sync');
  const running = await fleet.runs.create(runId, params, { lakePrefix: fleet.config.lake.prefix, force });
  if (running) {
    throw new RunRunningError(
      running,
      `run ${running} (the same sync) is still running: follow it with "tmdb-fleet status ${running}", stop it with "tmdb-fleet cancel ${running}", or pass --force`,
    );
  }
  await fleet.runs.plan(runId, [mode === 'list' ? LIST_GUARD : WATCH_GUARD]);
  return runId;
}

/** One listed object. */
interface Listed {
  key: string;
  etag: string;
  size: number;
}

/** Every object under a location, in key order (ListObjectsV2, 1,000 per page). */
async function* listObjects(client: S3Client, loc: S3Location): AsyncGenerator<Listed[]> {
  let token: string | undefined;
  do {
    const res = await client.send(
      new ListObjectsV2Command({ Bucket: loc.bucket, Prefix: loc.prefix, ContinuationToken: token }),
    );
    yield (res.Contents ?? [])
      .filter((o) => o.Key !== undefined)
      .map((o) => ({ key: o.Key as string, etag: bareEtag(o.ETag), size: o.Size ?? 0 }));
    token = res.IsTruncated ? res.NextContinuationToken : undefined;
  } while (token);
}

/** S3 lists keys in UTF-8 byte order; JavaScript compares UTF-16 units. */
const byteCompare = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/** Waits while the copy queue holds more waiting jobs than the configured bound. */
async function backpressure(fleet: Fleet): Promise<void> {
  while ((await fleet.queues.copy.getWaitingCount()) > fleet.config.jobs.detailsMaxDepth) {
    await new Promise((r) => setTimeout(r, BACKPRESSURE_POLL_MS));
  }
}

/**
 * Starts a listing sync: walks the source and the destination listings side by side (both in
 * key order, so memory stays at one page each), enqueues a copy job for every source object
 * the destination lacks or holds with another ETag or size, records the rest as skipped.
 * @returns the run id and what the listing found.
 * @throws UsageError, LakeError before the run is recorded; a listing error fails the run.
 */
export async function startSync(
  fleet: Fleet,
  client: S3Client,
  args: SyncArgs,
  options: { force?: boolean } = {},
): Promise<{ runId: string; listed: number; enqueued: number; skipped: number }> {
  const { source: src, destination: dst } = args;
  const runId = await createSyncRun(fleet, client, args, 'list', options.force ?? false);
  let listed = 0;
  let enqueued = 0;
  let skipped = 0;
  try {
    const dstPages = listObjects(client, dst);
    let dstPage: Listed[] = [];
    let dstIndex = 0;
    let dstDone = false;
    /** The destination object with relative key `rel`, advancing the destination listing. */
    const destinationOf = async (rel: string): Promise<Listed | undefined> => {
      for (;;) {
        while (dstIndex < dstPage.length) {
          const cur = dstPage[dstIndex] as Listed;
          const order = byteCompare(cur.key.slice(dst.prefix.length), rel);
          if (order === 0) return cur;
          if (order > 0) return undefined;
          dstIndex++;
        }
        if (dstDone) return undefined;
        const next = await dstPages.next();
        if (next.done) dstDone = true;
        else {
          dstPage = next.value;
          dstIndex = 0;
        }
      }
    };
    for await (const page of listObjects(client, src)) {
      const copies: Omit<CopyJobData, 'runId'>[] = [];
      const same: Listed[] = [];
      for (const o of page) {
        const rel = o.key.slice(src.prefix.length);
        if (rel === '') continue;
        listed++;
        const there = await destinationOf(rel);
        if (there && there.etag === o.etag && there.size === o.size) same.push(o);
        else {
          copies.push({
            srcBucket: src.bucket,
            srcKey: o.key,
            dstBucket: dst.bucket,
            dstKey: destinationKey(src, dst, o.key),
            etag: o.etag,
          });
        }
      }
      await Promise.all(
        same.map((o) =>
          fleet.runs.recordCopy(runId, {
            source: o.key,
            destination: destinationKey(src, dst, o.key),
            status: 'skipped',
            size: o.size,
            etag: o.etag,
            reason: 'destination already has this ETag and size',
          }),
        ),
      );
      skipped += same.length;
      await enqueueCopies(fleet, runId, copies);
      enqueued += copies.length;
      await backpressure(fleet);
    }
  } catch (err) {
    await fleet.runs.fail(runId, `listing failed: ${err instanceof Error ? err.message : String(err)}`);
    throw err;
  }
  if (await fleet.runs.pageDone(runId, LIST_GUARD)) await enqueueFinal(fleet, runId);
  fleet.log.info({ runId, source: formatS3Url(src), destination: formatS3Url(dst), listed, enqueued, skipped }, 'sync enqueued');
  return { runId, listed, enqueued, skipped };
}

/**
 * Starts a watch run and registers its watch (with its lease), so the S3 event webhook copies
 * every new object under the source until {@link stopWatch}. The caller renews the lease.
 * @throws UsageError when a running watch already covers this source; LakeError for a bucket.
 */
export async function startWatch(fleet: Fleet, client: S3Client, args: SyncArgs, options: { force?: boolean } = {}): Promise<string> {
  const other = await watchOf(fleet, args.source);
  if (other && (await fleet.runs.state(other.runId)) === 'running' && (await holdsLease(fleet, other.runId)) && !options.force) {
    throw new UsageError(
      `${formatS3Url(args.source)} is already watched by run ${other.runId} (to ${formatS3Url(other.destination)}): stop it first, or pass --force`,
    );
  }
  const runId = await createSyncRun(fleet, client, args, 'watch', options.force ?? false);
  await registerWatch(fleet, { source: args.source, destination: args.destination, runId });
  fleet.log.info({ runId, source: formatS3Url(args.source), destination: formatS3Url(args.destination) }, 'sync watch started');
  return runId;
}

/** Stops a watch: see jobs/watch.ts closeWatch. */
export async function stopWatch(fleet: Fleet, runId: string): Promise<void> {
  await closeWatch(fleet, runId);
  fleet.log.info({ runId }, 'sync watch stopped');
}

/**
 * The running watch whose source covers `key` in `bucket` (the longest prefix wins); a watch
 * whose lease lapsed (its process died) covers nothing.
 */
export async function findWatch(fleet: Fleet, bucket: string, key: string): Promise<Watch | undefined> {
  const candidates = (await listWatches(fleet))
    .filter((w) => isBelow(w.source, bucket, key))
    .sort((a, b) => b.source.prefix.length - a.source.prefix.length);
  for (const w of candidates) {
    if ((await fleet.runs.state(w.runId)) === 'running' && (await holdsLease(fleet, w.runId))) return w;
  }
  return undefined;
}

/** A new object announced by an S3 event (key already decoded). */
export interface ObjectEvent {
  bucket: string;
  key: string;
  /** Unquoted; '' when the event carries none. */
  etag: string;
}

/**
 * Enqueues a copy for each event a running watch covers (deduplicated by run, bucket, key and
 * ETag while the job exists; the worker skips what the destination already holds).
 * @returns how many events were enqueued and how many no watch covers.
 */
export async function enqueueObjectEvents(fleet: Fleet, events: ObjectEvent[]): Promise<{ enqueued: number; ignored: number }> {
  let enqueued = 0;
  for (const e of events) {
    const watch = await findWatch(fleet, e.bucket, e.key);
    if (!watch) continue;
    await enqueueCopies(fleet, watch.runId, [
      {
        srcBucket: e.bucket,
        srcKey: e.key,
        dstBucket: watch.destination.bucket,
        dstKey: destinationKey(watch.source, watch.destination, e.key),
        etag: e.etag,
      },
    ]);
    enqueued++;
  }
  return { enqueued, ignored: events.length - enqueued };
}

/** HeadBucket on a sync bucket, naming its role. @throws LakeError */
function checkSyncBucket(client: S3Client, bucket: string, role: 'source' | 'destination'): Promise<void> {
  return checkBucket(client, bucket, `${role} bucket "${bucket}"`);
}
