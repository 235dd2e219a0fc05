/**
 * The upload queue's contract (1 job = 1 local file): its data, id and plan key.
 */
import type { Fleet } from '../fleet.js';
import { formatJobId } from './job-id.js';
import { formatPlanKey } from './plan-key.js';

/** Data of an upload job: one local file. */
export interface UploadJobData {
  runId: string;
  /** Absolute path on the host that enqueued the job. */
  path: string;
  /** File name: the last segment of the key, and the file's id in the run. */
  name: string;
  /** Object key, `<prefix>/<dataset>/<YYYY>/<MM>/<DD>/<name>`. */
  key: string;
  /** `os.hostname()` of the machine the file is on. */
  host: string;
  /** `csv`: delimited text, rows checked and counted; `raw`: bytes as they are. */
  format: 'csv' | 'raw';
  /** Field delimiter of `csv` files. */
  delimiter: string;
}

/** The plan key of a file. */
export function filePlanKey(name: string): string {
  return formatPlanKey({ type: 'file', name });
}

/** Plans every file in the run, then enqueues one upload job per file (`u.<runId>.<n>`). */
export async function enqueueUploads(fleet: Fleet, runId: string, files: readonly Omit<UploadJobData, 'runId'>[]): Promise<void> {
  await fleet.runs.plan(runId, files.map((f) => filePlanKey(f.name)));
  await fleet.queues.upload.addBulk(
    files.map((f, index) => ({
      name: 'file',
      data: { runId, ...f } satisfies UploadJobData,
      opts: { jobId: formatJobId({ type: 'file', runId, index }) },
    })),
  );
}
