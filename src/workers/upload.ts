/**
 * Upload worker: one job = one local file. Reads the file once to hash it (SHA-256, and the
 * composite checksum S3 will report) and, for delimited text, to count and check its rows;
 * skips it when the same bytes already sit at its key; else streams it to the lake (multipart,
 * SHA-256 checksum per part) and checks what landed (HeadObject: size, `x-amz-meta-sha256`, S3's
 * own checksum when the store keeps one). Records the outcome in the run (`:files`) and marks the
 * file's plan key (`file#<name>`) done; the last file enqueues the final write job (manifest).
 *
 * Files are local to the machine that ran `tmdb-fleet upload`: a worker on another host hands
 * the job back (delayed) instead of reading a path that is not its own.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { DelayedError, type Job, type Worker } from 'bullmq';
import type { Fleet } from '../fleet.js';
import { IntegrityError, LocalFileError } from '../errors.js';
import { filePlanKey, type UploadJobData } from '../jobs/upload.js';
import { enqueueFinal } from '../jobs/write.js';
import { scanFile, type FileScan } from '../lake/file-scan.js';
import type { ObjectHead } from '../lake/store.js';
import type { UploadedFile } from '../runs/types.js';
import { createQueueWorker, handleJobError, notRunning, runInfo } from './job-support.js';

/** Smallest multipart part, bytes (S3's minimum, 5 MiB: 300 MB in ~58 parts; smaller parts, less memory). */
const MIN_PART_SIZE = 5 * 1024 * 1024;
/** S3's most parts per upload. */
const MAX_PARTS = 10_000;
/** Parts in flight at once: memory held is about PART_SIZE × QUEUE_SIZE. */
const QUEUE_SIZE = 1;
/** How often progress is written to Redis and the job, ms. */
const PROGRESS_EVERY_MS = 500;

/** Part size for a file of `size` bytes: ≥ 8 MiB, whole MiB, ≤ 10,000 parts. */
export function partSizeFor(size: number): number {
  const mib = 1024 * 1024;
  return Math.max(MIN_PART_SIZE, Math.ceil(size / MAX_PARTS / mib) * mib);
}

/** Creates the upload worker. */
export function createUploadWorker(fleet: Fleet, concurrency: number): Worker<UploadJobData> {
  return createQueueWorker(fleet, 'upload', concurrency, (job, token) => processUpload(fleet, job, token));
}

async function processUpload(fleet: Fleet, job: Job<UploadJobData>, token: string | undefined): Promise<string> {
  const d = job.data;
  const run = await runInfo(fleet, d.runId);
  if (run.state !== 'running') return notRunning(d.runId, run.state);
  if (d.host !== hostname()) {
    // Not this machine's file: hand the job back for a worker on its host.
    await job.moveToDelayed(Date.now() + 5_000, token);
    throw new DelayedError();
  }
  try {
    const result = await uploadFile(fleet, job);
    await fleet.runs.recordFile(d.runId, result);
    if (await fleet.runs.pageDone(d.runId, filePlanKey(d.name))) await enqueueFinal(fleet, d.runId);
    fleet.log.info({ runId: d.runId, key: d.key, status: result.status, bytes: result.bytes, rows: result.rows }, `file ${result.status}`);
    return result.status;
  } catch (err) {
    // A LocalFileError gives up at once: retrying cannot make a missing file appear or a
    // malformed row parse. The failed file is recorded by jobs/give-up.ts.
    return handleJobError(fleet, job, { queue: 'upload', data: d }, err);
  }
}

/**
 * Hashes (and for csv checks) the file, then skips it or uploads and verifies it.
 * @throws LocalFileError (missing file, malformed row), IntegrityError (the lake holds other
 * bytes after the upload), S3 errors.
 */
async function uploadFile(fleet: Fleet, job: Job<UploadJobData>): Promise<UploadedFile> {
  const d = job.data;
  let size: number;
  try {
    size = (await stat(d.path)).size;
  } catch (err) {
    throw new LocalFileError(`${d.path} cannot be read on ${d.host}: ${(err as Error).message}`, { cause: err });
  }
  const partSize = partSizeFor(size);
  // Progress counts each byte half when it is hashed and half when it is sent (or skipped).
  const progress = throttled(async (bytes: number) => {
    await fleet.runs.fileBytes(d.runId, d.name, bytes);
    await job.updateProgress({ bytes, size });
  });

  let scan: FileScan;
  try {
    scan = await scanFile(d.path, {
      partSize,
      ...(d.format === 'csv' ? { csv: { delimiter: d.delimiter } } : {}),
      onProgress: (bytes) => progress(Math.floor(bytes / 2)),
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const what = typeof e.code === 'string' && e.code.startsWith('CSV_') ? 'is not valid delimited text' : 'cannot be read';
    throw new LocalFileError(`${d.path} ${what}: ${e.message}`, { cause: err });
  }
  const base = {
    name: d.name,
    key: d.key,
    bytes: scan.bytes,
    ...(scan.rows !== undefined ? { rows: scan.rows } : {}),
    sha256: scan.sha256,
    checksum: scan.s3Checksum,
  };

  const existing = await fleet.store.head(d.key);
  if (existing && sameContent(existing, scan)) {
    await progress.flush(scan.bytes);
    return { ...base, status: 'skipped' };
  }
  await fleet.store.putStream(d.key, createReadStream(d.path, { highWaterMark: 256 * 1024 }), {
    contentType: d.format === 'csv' ? 'text/csv' : 'application/octet-stream',
    metadata: { sha256: scan.sha256, ...(scan.rows !== undefined ? { rows: String(scan.rows) } : {}) },
    partSize,
    queueSize: QUEUE_SIZE,
    onProgress: (bytes) => progress(Math.floor((scan.bytes + bytes) / 2)),
  });
  const stored = await fleet.store.head(d.key);
  if (!stored || !sameContent(stored, scan)) {
    const seen = stored
      ? `${stored.size} bytes, sha256 ${stored.metadata.sha256 ?? 'none'}, checksum ${stored.checksumSha256 ?? 'none'}`
      : 'no object';
    throw new IntegrityError(
      `${fleet.store.location}/${d.key} after upload holds ${seen}: expected ${scan.bytes} bytes, sha256 ${scan.sha256}, checksum ${scan.s3Checksum}`,
    );
  }
  await progress.flush(scan.bytes);
  return { ...base, status: 'uploaded' };
}

/**
 * True when an object holds the scanned bytes: same size, same `sha256` metadata, and the same
 * S3 checksum when the store reports one.
 */
export function sameContent(head: ObjectHead, scan: FileScan): boolean {
  return (
    head.size === scan.bytes &&
    head.metadata.sha256 === scan.sha256 &&
    (head.checksumSha256 === undefined || head.checksumSha256 === scan.s3Checksum)
  );
}

/** Calls `write` at most every PROGRESS_EVERY_MS with the latest value; `flush` writes now. */
function throttled(write: (bytes: number) => Promise<void>): ((bytes: number) => void) & { flush(bytes: number): Promise<void> } {
  let last = 0;
  let pending: Promise<void> = Promise.resolve();
  const fn = (bytes: number) => {
    if (Date.now() - last < PROGRESS_EVERY_MS) return;
    last = Date.now();
    pending = pending.then(() => write(bytes)).catch(() => undefined);
  };
  return Object.assign(fn, {
    async flush(bytes: number) {
      await pending;
      await write(bytes);
    },
  });
}

