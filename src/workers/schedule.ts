/**
 * Schedule worker: one job = one tick of a schedule (see `jobs/schedule.ts`). A tick starts the
 * schedule's run in this process, through the producer the CLI uses for the same command (given
 * as `start` by the command layer: workers do not import producers), unless the schedule's
 * previous run is still running or finalizing, or another tick of it is still starting its run
 * (an export being read): then it skips, logs why and returns the reason (the job's return
 * value, in Bull Board). A run with the same parameters started by hand also makes it skip.
 */
import type { Job, Worker } from 'bullmq';
import type { Fleet } from '../fleet.js';
import { RunRunningError } from '../errors.js';
import { lastScheduledRun, recordScheduledRun, type ScheduleJobData, type StartScheduledRun } from '../jobs/schedule.js';
import { createQueueWorker } from './job-support.js';

/** Creates the schedule worker. */
export function createScheduleWorker(fleet: Fleet, concurrency: number, start: StartScheduledRun): Worker<ScheduleJobData> {
  return createQueueWorker(fleet, 'schedule', concurrency, (job) => processTick(fleet, job, start));
}

/** Why a tick should not start a run now, if it should not. */
async function busyReason(fleet: Fleet, job: Job<ScheduleJobData>): Promise<{ reason: string; runId?: string } | undefined> {
  const { name } = job.data;
  const last = await lastScheduledRun(fleet, name);
  const state = last ? await fleet.runs.state(last) : undefined;
  if (last && (state === 'running' || state === 'finalizing')) {
    return { reason: `the previous run ${last} of schedule ${name} is still ${state}`, runId: last };
  }
  const active = await fleet.queues.schedule.getActive();
  const other = active.find((j) => j.id !== job.id && (j.data as ScheduleJobData | undefined)?.name === name);
  if (other) return { reason: `the previous tick ${other.id} of schedule ${name} is still starting its run` };
  return undefined;
}

async function processTick(fleet: Fleet, job: Job<ScheduleJobData>, start: StartScheduledRun): Promise<string> {
  const { name, argv } = job.data;
  const busy = await busyReason(fleet, job);
  if (busy) {
    fleet.log.warn({ schedule: name, runId: busy.runId, jobId: job.id }, `schedule tick skipped: ${busy.reason}`);
    return `skipped: ${busy.reason}`;
  }
  try {
    const runId = await start(fleet, argv, { onCreated: (id) => recordScheduledRun(fleet, name, id) });
    await recordScheduledRun(fleet, name, runId);
    fleet.log.info({ schedule: name, runId, argv }, 'schedule tick started a run');
    return `started ${runId}`;
  } catch (err) {
    if (!(err instanceof RunRunningError)) {
      fleet.log.error({ schedule: name, jobId: job.id, err: (err as Error).message }, 'schedule tick failed');
      throw err;
    }
    const reason = `run ${err.runId} with the same parameters is still running`;
    fleet.log.warn({ schedule: name, runId: err.runId, jobId: job.id }, `schedule tick skipped: ${reason}`);
    return `skipped: ${reason}`;
  }
}
