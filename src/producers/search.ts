/**
 * Search producer: validates a search run's arguments. The run itself starts like a backfill
 * (one listing job for page 1; the discover worker reads `GET /search/{kind}` pages instead of
 * discover windows).
 */
import { UsageError } from '../errors.js';
import type { RunParams } from '../runs/types.js';

/**
 * Validates `search` arguments.
 * @throws UsageError naming the bad value and what was expected.
 */
export function parseSearchArgs(args: { kind: string; query: string; allPages: boolean }): RunParams {
  if (args.kind !== 'movie' && args.kind !== 'tv') {
    throw new UsageError(`kind "${args.kind}" is not supported: expected movie or tv`);
  }
  const query = args.query.trim();
  if (query === '') throw new UsageError('--query is empty: expected words to search for, e.g. "Jason Bourne"');
  if (query.length > 200) throw new UsageError(`--query is ${query.length} characters long: expected at most 200`);
  return { kind: args.kind, source: 'search', params: { query, all_pages: String(args.allPages) } };
}
