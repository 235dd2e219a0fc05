/**
 * `tmdb-fleet search <movie|tv> --query "Jason Bourne" [--all-pages]`: a run over the titles
 * `GET /search/{kind}` returns for a query (page 1, or every page with `--all-pages`), through
 * the same details and write queues as a backfill: same layout, its own run and manifest.
 */
import { Command } from 'commander';
import type { Config } from '../config.js';
import { parseSearchArgs } from '../producers/search.js';
import { startBackfill } from '../producers/backfill.js';
import { positiveInt } from './options.js';
import { startAndFollow, type FollowOptions } from './run-output.js';

/** The `search` command. */
export function searchCommand(getConfig: () => Config): Command {
  return new Command('search')
    .description('collect the titles a TMDB search returns (e.g. every film of a saga)')
    .argument('<kind>', 'movie or tv')
    .requiredOption('--query <text>', 'what to search for, e.g. "Jason Bourne"')
    .option('--all-pages', 'every result page (up to 500), not only the first 20 results')
    .option('--force', 'start even if a run with the same parameters is running')
    .option('--wait', 'block until the run ends; exit 0 when completed, 1 otherwise')
    .option('--json', 'print the run summary as one JSON object on the last line of stdout')
    .option('--workers <n>', 'with --wait: also run N workers in this process', positiveInt('--workers'))
    .action(async (kind: string, opts: FollowOptions & { query: string; allPages?: boolean; force?: boolean }) => {
      const params = parseSearchArgs({ kind, query: opts.query, allPages: opts.allPages ?? false });
      await startAndFollow(getConfig(), opts, async (fleet) => (await startBackfill(fleet, params, { force: opts.force ?? false })).runId);
    });
}
