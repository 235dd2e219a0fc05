/** `tmdb-fleet status <runId>` and `tmdb-fleet cancel <runId> [--wait]`. */
import { Command } from 'commander';
import type { Config } from '../config.js';
import type { GetConfig } from './private-redis.js';
import { openFleet, type Fleet } from '../fleet.js';
import { createLogger } from '../log.js';
import { cancelRun } from '../producers/run-control.js';
import { watchRun } from './progress.js';
import { summaryLine } from './run-output.js';
import { humanSummary } from './run-summary.js';

/** Opens a client fleet for one command and closes it after `use`. */
async function withFleet(config: Config, use: (fleet: Fleet) => Promise<void>): Promise<void> {
  const fleet = openFleet(config, createLogger(config), 'client');
  try {
    await fleet.redisWatch.guard(use(fleet));
  } finally {
    await fleet.close();
  }
}

/** The `status` command. */
export function statusCommand(getConfig: GetConfig): Command {
  return new Command('status')
    .description('print the summary of a run')
    .argument('<runId>')
    .option('--json', 'one JSON object')
    .action(async (runId: string, opts: { json?: boolean }) =>
      withFleet(await getConfig(), async (fleet) => {
        const s = await fleet.runs.summary(runId);
        process.stdout.write(opts.json ? `${summaryLine(s)}\n` : `${humanSummary(s)}\n`);
      }),
    );
}

/** The `cancel` command. */
export function cancelCommand(getConfig: GetConfig): Command {
  return new Command('cancel')
    .description('cancel a run: queued jobs removed, staged documents flushed, manifest marked cancelled')
    .argument('<runId>')
    .option('--wait', 'block until the manifest is written')
    .option('--json', 'print the run summary as one JSON object on the last line of stdout')
    .action(async (runId: string, opts: { wait?: boolean; json?: boolean }) =>
      withFleet(await getConfig(), async (fleet) => {
        const { removed } = await cancelRun(fleet, runId);
        process.stderr.write(`tmdb-fleet: cancelling ${runId}: ${removed} queued jobs removed\n`);
        const s = opts.wait ? await watchRun(fleet.runs, runId, { redis: fleet.redisWatch }) : await fleet.runs.summary(runId);
        process.stdout.write(opts.json ? `${summaryLine(s)}\n` : `${humanSummary(s)}\n`);
      }),
    );
}
