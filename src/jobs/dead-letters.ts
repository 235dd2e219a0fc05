/**
 * Dead letters of a run: its jobs that failed for good and stay in their queue's failed list
 * (kept 7 days, at most 10,000 per queue; `queues.ts`), visible and retryable in Bull Board.
 */
import type { Job } from 'bullmq';
import type { Fleet } from '../fleet.js';
import { QUEUE_NAMES, type QueueName } from '../queues.js';

/** One failed job of a run. */
export interface DeadLetter {
  queue: QueueName;
  jobId: string;
  /** What the job was about: `title 550`, `page 3 of …`, the job's data otherwise. */
  subject: string;
  /** The last error. */
  error: string;
  attempts: number;
  /** When it failed for good, ms since the epoch. */
  failedAt: number | undefined;
}

/** Failed jobs read from a queue per round trip. */
const SCAN_BATCH = 500;
/** Failed jobs looked at per queue, newest first. */
const SCAN_LIMIT = 5_000;

function subjectOf(data: Record<string, unknown>): string {
  if (typeof data.id === 'number') return `title ${data.id}`;
  if (typeof data.page === 'number') return `page ${data.page}`;
  if (typeof data.imdbId === 'string') return `IMDB id ${data.imdbId}`;
  if (typeof data.name === 'string') return `file ${data.name}`;
  if (typeof data.key === 'string') return `object ${data.key}`;
  const { runId: _runId, ...rest } = data;
  return JSON.stringify(rest).slice(0, 120);
}

/**
 * The dead letters of `runId`, newest first, from the newest {@link SCAN_LIMIT} failed jobs of
 * each queue.
 * @returns at most `limit` of them, and whether more were found.
 */
export async function deadLettersOf(fleet: Pick<Fleet, 'queues'>, runId: string, limit = 50): Promise<{ letters: DeadLetter[]; more: boolean }> {
  const letters: DeadLetter[] = [];
  let more = false;
  for (const queue of QUEUE_NAMES) {
    for (let start = 0; start < SCAN_LIMIT; start += SCAN_BATCH) {
      const jobs = (await fleet.queues[queue].getFailed(start, start + SCAN_BATCH - 1)) as Job[];
      for (const job of jobs) {
        const data = (job?.data ?? {}) as Record<string, unknown>;
        if (data.runId !== runId || !job.id) continue;
        if (letters.length >= limit) {
          more = true;
          continue;
        }
        letters.push({
          queue,
          jobId: job.id,
          subject: subjectOf(data),
          error: job.failedReason ?? '',
          attempts: job.attemptsMade,
          failedAt: job.finishedOn,
        });
      }
      if (jobs.length < SCAN_BATCH) break;
    }
  }
  letters.sort((a, b) => (b.failedAt ?? 0) - (a.failedAt ?? 0));
  return { letters, more };
}
