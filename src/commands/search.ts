/**
 * `tmdb-fleet search <movie|tv> --query "Jason Bourne" [--all-pages]`: a run over the titles
 * `GET /search/{kind}` returns for a query (page 1, or every page with `--all-pages`), through
 * the same details and write queues as a backfill: same layout, its own run and manifest.
 */
import { Command } from 'commander';
import type { GetConfig } from './private-redis.js';
import { parseSearchArgs } from '../producers/search.js';
import { startBackfill } from '../producers/backfill.js';
import { withFollowOptions } from './options.js';
import { startAndFollow, type FollowOptions } from './run-output.js';
import { cliHooks, type RunStarter } from './starters.js';

/** Options of `search`. */
export interface SearchOptions extends FollowOptions {
  query: string;
  allPages?: boolean;
  force?: boolean;
}

/** Adds the arguments and options of `search` to a command named `search`. */
export function defineSearch(command: Command): Command {
  return command
    .description('collect the titles a TMDB search returns (e.g. every film of a saga)')
    .argument('<kind>', 'movie or tv')
    .requiredOption('--query <text>', 'what to search for, e.g. "Jason Bourne"')
    .option('--all-pages', 'every result page (up to 500), not only the first 20 results');
}

/** The starter of a search run. @throws UsageError naming a bad value. */
export function searchStarter(kind: string, opts: SearchOptions): RunStarter {
  const params = parseSearchArgs({ kind, query: opts.query, allPages: opts.allPages ?? false });
  return async (fleet) => (await startBackfill(fleet, params, { force: opts.force ?? false })).runId;
}

/** The `search` command. */
export function searchCommand(getConfig: GetConfig): Command {
  return withFollowOptions(defineSearch(new Command('search'))).action(async (kind: string, opts: SearchOptions) => {
    const starter = searchStarter(kind, opts);
    await startAndFollow(await getConfig(), opts, (fleet) => starter(fleet, cliHooks));
  });
}
