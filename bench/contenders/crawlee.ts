/**
 * Contender "crawlee": Crawlee's BasicCrawler (@crawlee/basic 3), the library users reach for.
 * Every discover page and every title is a request of its RequestQueue (in memory: storage is
 * not persisted, and CRAWLEE_STORAGE_DIR points at the bench's temporary directory), run at most
 * BENCH_IN_FLIGHT at once (`maxConcurrency`) and `maxRequestsPerMinute` = 60 × the ceiling.
 * The handler sends its request with the same undici GET as the other scripts (429: wait out
 * Retry-After, then the same request again), so the comparison is about scheduling, not the
 * HTTP client. Gzip JSON Lines objects of 100 are uploaded as they fill.
 *
 * Set so Crawlee's autoscaling does not interfere: `minConcurrency` = `maxConcurrency` (the pool
 * starts at full concurrency and its system status, CPU and event-loop overload, can never scale
 * it down), its periodic status message off. Everything else is Crawlee's default.
 *
 * Run by the bench as `node dist/bench/contenders/crawlee.js` (settings: kit.ts).
 */
import { BasicCrawler, Configuration, log, type BasicCrawlingContext } from '@crawlee/basic';
import { DiscoverPlan, TmdbHttp, fetchTitle, noCounts, runContender, type PageTask } from './kit.js';

/** What a request of the queue is for. */
type Job = { kind: 'page'; task: PageTask } | { kind: 'title'; id: number };

runContender({ waitForEachPut: false }, async ({ config, writer }) => {
  log.setLevel(log.LEVELS.WARNING);
  const http = new TmdbHttp({ baseUrl: config.baseUrl, token: config.token });
  const plan = new DiscoverPlan(config.from, config.to);
  const counts = noCounts();
  const storageDir = process.env.CRAWLEE_STORAGE_DIR;
  const crawleeConfig = new Configuration({
    persistStorage: false,
    purgeOnStart: true,
    ...(storageDir ? { storageClientOptions: { localDataDirectory: storageDir, persistStorage: false, writeMetadata: false } } : {}),
  });
  const pageRequest = (task: PageTask) => ({ url: http.discoverUrl(task.window, task.page), userData: { job: { kind: 'page', task } satisfies Job } });
  const titleRequest = (id: number) => ({ url: http.detailsUrl(id), userData: { job: { kind: 'title', id } satisfies Job } });

  const requestHandler = async ({ request, addRequests }: BasicCrawlingContext) => {
    const job = request.userData.job as Job;
    if (job.kind === 'title') return fetchTitle(http, writer, counts, job.id);
    const ids = plan.settle(job.task, await http.get(request.url));
    const follow: ReturnType<typeof pageRequest>[] = [];
    for (let task = plan.next(); task; task = plan.next()) follow.push(pageRequest(task));
    await addRequests([...follow, ...ids.map(titleRequest)]);
  };
  const crawler = new BasicCrawler(
    {
      requestHandler,
      failedRequestHandler: () => {
        counts.failed++;
      },
      maxConcurrency: config.inFlight,
      minConcurrency: config.inFlight,
      maxRequestsPerMinute: Math.round(config.ceilingRps * 60),
      statusMessageLoggingInterval: 3_600,
    },
    crawleeConfig,
  );
  const first: ReturnType<typeof pageRequest>[] = [];
  for (let task = plan.next(); task; task = plan.next()) first.push(pageRequest(task));
  await crawler.run(first);
  await http.close();
  return { ...counts, discovered: plan.discovered };
});
