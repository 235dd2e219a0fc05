/**
 * Contender "direct": a queue-less concurrent client, the upper bound of a script. One process,
 * BENCH_IN_FLIGHT lanes sharing a token bucket at the ceiling (burst 5 % of a second's tokens,
 * so TMDB's sliding second, 10 % above the ceiling, is never crossed); each lane takes the next
 * title, or the next discover page while fewer than two titles per lane are waiting; a 429
 * pauses the whole bucket for its Retry-After. Gzip JSON Lines objects of 100 are uploaded as
 * they fill, while the lanes go on.
 *
 * Run by the bench as `node dist/bench/contenders/direct.js` (settings: kit.ts).
 */
import { DiscoverPlan, TmdbHttp, TokenBucket, fetchTitle, noCounts, runContender, type PageTask } from './kit.js';

/** Burst of the bucket, as a share of one second's tokens. */
const BURST_SHARE = 0.05;

runContender({ waitForEachPut: false }, async ({ config, writer }) => {
  const bucket = new TokenBucket(config.ceilingRps, Math.max(1, Math.floor(config.ceilingRps * BURST_SHARE)));
  const http = new TmdbHttp({
    baseUrl: config.baseUrl,
    token: config.token,
    limit: () => bucket.take(),
    onRateLimited: async (ms) => {
      bucket.pause(ms);
    },
  });
  const plan = new DiscoverPlan(config.from, config.to);
  const counts = noCounts();
  const ids: number[] = [];
  let head = 0;
  let pagesInFlight = 0;
  // Lanes with nothing to do wait for a page to bring titles (or more pages).
  let wake: () => void = () => undefined;
  let pageSettled = new Promise<void>((resolve) => (wake = resolve));
  const lookahead = config.inFlight * 2;

  const fetchPage = async (task: PageTask) => {
    pagesInFlight++;
    try {
      ids.push(...plan.settle(task, await http.get(http.discoverUrl(task.window, task.page))));
    } finally {
      pagesInFlight--;
      wake();
      pageSettled = new Promise<void>((resolve) => (wake = resolve));
    }
  };
  const lane = async () => {
    for (;;) {
      const task = ids.length - head < lookahead ? plan.next() : undefined;
      if (task) await fetchPage(task);
      else if (head < ids.length) await fetchTitle(http, writer, counts, ids[head++]!);
      else if (pagesInFlight > 0) await pageSettled;
      else return;
    }
  };
  await Promise.all(Array.from({ length: config.inFlight }, lane));
  await http.close();
  return { ...counts, discovered: plan.discovered };
});
