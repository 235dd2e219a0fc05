/**
 * What the script contenders share, so each one is only its own way of scheduling requests: its
 * settings from the environment, a token bucket, one TMDB GET over undici (the fleet's HTTP
 * client) with 429 and 5xx handling, the discover plan (year windows of `GET /discover/movie`,
 * halved while one holds more than TMDB's 500 pages) and the entry point that prints the summary
 * line the bench reads.
 */
import { Agent, request } from 'undici';
import { LakeWriter, type RunCounts } from './lake-writer.js';

/** A contender's settings, from the environment the bench gives it. */
export interface ContenderConfig {
  /** TMDB_API_BASE_URL, e.g. http://127.0.0.1:1234/3 */
  baseUrl: string;
  /** TMDB_ACCESS_TOKEN */
  token: string;
  /** TMDB_RATE_LIMIT_RPS: the ceiling. */
  ceilingRps: number;
  /** BENCH_FROM, BENCH_TO: release dates discovered, YYYY-MM-DD. */
  from: string;
  to: string;
  /** BENCH_IN_FLIGHT: requests in flight at once (concurrent contenders). @defaultValue 16 */
  inFlight: number;
}

/** Reads {@link ContenderConfig} from `env`. */
export function contenderConfig(env: NodeJS.ProcessEnv = process.env): ContenderConfig {
  const need = (name: string): string => {
    const value = env[name];
    if (!value) throw new Error(`${name} is not set`);
    return value;
  };
  return {
    baseUrl: need('TMDB_API_BASE_URL'),
    token: need('TMDB_ACCESS_TOKEN'),
    ceilingRps: Number(need('TMDB_RATE_LIMIT_RPS')),
    from: need('BENCH_FROM'),
    to: need('BENCH_TO'),
    inFlight: Number(env.BENCH_IN_FLIGHT ?? 16),
  };
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A token bucket (GCRA): `rps` tokens a second, at most `burst` at once. {@link take} waits for
 * a token; {@link pause} hands none out for a while (a 429's Retry-After).
 */
export class TokenBucket {
  private readonly intervalMs: number;
  private readonly toleranceMs: number;
  /** Theoretical arrival time of the next token, performance.now() ms. */
  private tat = 0;

  constructor(rps: number, burst = 1) {
    this.intervalMs = 1000 / rps;
    this.toleranceMs = (Math.max(1, burst) - 1) * this.intervalMs;
  }

  /** Waits for the next token. */
  async take(): Promise<void> {
    const now = performance.now();
    const tat = Math.max(this.tat, now);
    this.tat = tat + this.intervalMs;
    const wait = tat - this.toleranceMs - now;
    if (wait >= 1) await sleep(wait);
  }

  /** No token before `ms` from now. */
  pause(ms: number): void {
    this.tat = Math.max(this.tat, performance.now() + ms + this.toleranceMs);
  }
}

/** Options of {@link TmdbHttp}. */
export interface TmdbHttpOptions {
  baseUrl: string;
  token: string;
  /** Waits for the rate limit before each attempt (default: none). */
  limit?: () => Promise<void>;
  /** Called on a 429 with its Retry-After in ms before the request is sent again (default: sleeps it). */
  onRateLimited?: (ms: number) => Promise<void>;
}

/** Attempts of a request answered 5xx or not at all, before it fails for good. */
const TRANSIENT_ATTEMPTS = 5;
/** 429s in a row for one request before it fails for good. */
const MAX_429 = 20;

/** TMDB API GETs over undici, each through the caller's rate limit. */
export class TmdbHttp {
  private readonly agent = new Agent({ keepAliveTimeout: 10_000, connections: 256 });
  private readonly headers: Record<string, string>;

  constructor(private readonly options: TmdbHttpOptions) {
    this.headers = { accept: 'application/json', authorization: `Bearer ${options.token}` };
  }

  /** `<baseUrl>/movie/<id>` as TMDB's details request of the fleet. */
  detailsUrl(id: number): string {
    return `${this.options.baseUrl}/movie/${id}?append_to_response=external_ids`;
  }

  /** One discover page of a window, sorted by release date. */
  discoverUrl(window: Window, page: number): string {
    return `${this.options.baseUrl}/discover/movie?primary_release_date.gte=${window.gte}&primary_release_date.lte=${window.lte}&sort_by=primary_release_date.asc&page=${page}`;
  }

  /**
   * GETs `url` and parses the JSON body.
   * @returns the body, or undefined when TMDB answered 404.
   * @throws Error after {@link TRANSIENT_ATTEMPTS} failures or {@link MAX_429} 429s, or on any other status.
   */
  async get(url: string): Promise<unknown> {
    let failures = 0;
    let limited = 0;
    for (;;) {
      await this.options.limit?.();
      let status: number;
      let text: string;
      let retryAfter: string | string[] | undefined;
      try {
        const res = await request(url, { method: 'GET', headers: this.headers, dispatcher: this.agent });
        text = await res.body.text();
        status = res.statusCode;
        retryAfter = res.headers['retry-after'];
      } catch (err) {
        if (++failures >= TRANSIENT_ATTEMPTS) throw err;
        await sleep(100 * 2 ** failures);
        continue;
      }
      if (status === 200) return JSON.parse(text) as unknown;
      if (status === 404) return undefined;
      if (status === 429 && ++limited < MAX_429) {
        const ms = Number(Array.isArray(retryAfter) ? retryAfter[0] : (retryAfter ?? 1)) * 1000 || 1000;
        await (this.options.onRateLimited ?? sleep)(ms);
        continue;
      }
      if (status >= 500 && ++failures < TRANSIENT_ATTEMPTS) {
        await sleep(100 * 2 ** failures);
        continue;
      }
      throw new Error(`TMDB answered ${status} for ${url}`);
    }
  }

  /** Closes pooled connections. */
  async close(): Promise<void> {
    await this.agent.close();
  }
}

/** A release-date range of discover, both ends included (YYYY-MM-DD). */
export interface Window {
  gte: string;
  lte: string;
}

/** One discover page to fetch. */
export interface PageTask {
  window: Window;
  page: number;
}

/** TMDB serves at most this many pages of one discover query. */
export const MAX_PAGES = 500;
const DAY_MS = 86_400_000;
const day = (s: string) => Date.parse(`${s}T00:00:00Z`) / DAY_MS;
const date = (d: number) => new Date(d * DAY_MS).toISOString().slice(0, 10);

/**
 * The discover plan of a run: page 1 of each year window first; page 1 then tells how many pages
 * the window has (pages 2…N follow) or, beyond {@link MAX_PAGES}, that the window is halved.
 */
export class DiscoverPlan {
  private readonly tasks: PageTask[] = [];
  private readonly seen = new Set<number>();
  /** Distinct ids discovered so far. */
  discovered = 0;

  constructor(from: string, to: string) {
    for (let y = Number(from.slice(0, 4)); y <= Number(to.slice(0, 4)); y++) {
      const gte = `${y}-01-01` < from ? from : `${y}-01-01`;
      const lte = `${y}-12-31` > to ? to : `${y}-12-31`;
      this.tasks.push({ window: { gte, lte }, page: 1 });
    }
  }

  /** The next page to fetch, or undefined when none is known now (more may follow a page 1). */
  next(): PageTask | undefined {
    return this.tasks.shift();
  }

  /**
   * Takes a fetched page's body: plans what follows it and returns the ids it brought that were
   * not seen before (none when its window was halved instead).
   */
  settle(task: PageTask, body: unknown): number[] {
    const page = body as { results?: { id?: unknown }[]; total_pages?: unknown };
    const totalPages = Number(page.total_pages ?? 0);
    if (task.page === 1 && totalPages > MAX_PAGES) {
      const [a, b] = [day(task.window.gte), day(task.window.lte)];
      if (a >= b) throw new Error(`discover window ${task.window.gte} has more than ${MAX_PAGES} pages in one day`);
      const mid = Math.floor((a + b) / 2);
      this.tasks.push({ window: { gte: task.window.gte, lte: date(mid) }, page: 1 }, { window: { gte: date(mid + 1), lte: task.window.lte }, page: 1 });
      return [];
    }
    if (task.page === 1) for (let p = 2; p <= totalPages; p++) this.tasks.push({ window: task.window, page: p });
    const ids: number[] = [];
    for (const r of page.results ?? []) {
      if (typeof r.id === 'number' && !this.seen.has(r.id)) {
        this.seen.add(r.id);
        ids.push(r.id);
      }
    }
    this.discovered += ids.length;
    return ids;
  }
}

/**
 * Fetches one title's details and hands the document to the writer; counts it as fetched, not
 * found (404) or failed (TMDB kept failing).
 */
export async function fetchTitle(http: TmdbHttp, writer: LakeWriter, counts: RunCounts, id: number): Promise<void> {
  let document: unknown;
  try {
    document = await http.get(http.detailsUrl(id));
  } catch {
    counts.failed++;
    return;
  }
  if (document === undefined) {
    counts.notFound++;
    return;
  }
  counts.fetched++;
  await writer.add(document);
}

/** Counts of a run before anything happened. */
export function noCounts(): RunCounts {
  return { discovered: 0, fetched: 0, notFound: 0, failed: 0 };
}

/** What a contender's body gets: its settings and the lake writer of its run. */
export interface ContenderContext {
  config: ContenderConfig;
  writer: LakeWriter;
}

/**
 * A contender's entry point: runs `body`, writes the manifest with the counts it returns and
 * prints one JSON summary line (like the CLI's `--json`), plus this process's peak RSS and CPU.
 * Exits 1 when the body throws.
 */
export function runContender(options: { waitForEachPut: boolean }, body: (ctx: ContenderContext) => Promise<RunCounts>): void {
  const main = async () => {
    const config = contenderConfig();
    const writer = new LakeWriter({ waitForEachPut: options.waitForEachPut, env: process.env });
    const counts = await body({ config, writer });
    const written = await writer.finish(counts);
    const usage = process.resourceUsage();
    const line = { runId: writer.runId, state: 'completed', ...counts, ...written, maxRssBytes: usage.maxRSS * 1024, cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6 };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  };
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stdout.write(`${JSON.stringify({ state: 'failed', error: err instanceof Error ? err.message : String(err) })}\n`);
      process.exit(1);
    },
  );
}
