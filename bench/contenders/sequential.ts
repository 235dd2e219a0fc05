/**
 * Contender "sequential": the classic script loop. Page through discover; for each page, fetch
 * the details of its titles one request at a time; every 100 documents, upload one gzip JSON
 * Lines object and wait for it. Requests are spaced at the ceiling (a bucket of one token), and
 * a 429 is waited out before the same request goes again.
 *
 * Run by the bench as `node dist/bench/contenders/sequential.js` (settings: kit.ts).
 */
import { DiscoverPlan, TmdbHttp, TokenBucket, fetchTitle, noCounts, runContender } from './kit.js';

runContender({ waitForEachPut: true }, async ({ config, writer }) => {
  const bucket = new TokenBucket(config.ceilingRps, 1);
  const http = new TmdbHttp({ baseUrl: config.baseUrl, token: config.token, limit: () => bucket.take() });
  const plan = new DiscoverPlan(config.from, config.to);
  const counts = noCounts();
  for (let task = plan.next(); task; task = plan.next()) {
    const ids = plan.settle(task, await http.get(http.discoverUrl(task.window, task.page)));
    for (const id of ids) await fetchTitle(http, writer, counts, id);
  }
  await http.close();
  return { ...counts, discovered: plan.discovered };
});
