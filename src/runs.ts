/**
 * Run state: compact, idempotent bookkeeping of one backfill in Redis, and the exactly-once
 * staging of documents into batches.
 *
 * Keys (all under `<prefix>:run:<runId>`, one Redis Cluster slot thanks to the hash tag):
 * - `` (hash): parameters, state and counters;
 * - `:discovered`, `:fetched`, `:notfound`, `:failed`: bitmaps indexed by TMDB id (a million
 *   titles cost ~200 KB each); a counter moves only when its bit flips, so re-delivered jobs
 *   never double-count;
 * - `:pages` (hash page key → 0 planned / 1 done / 2 failed), `:leaves` and `:uncovered`
 *   (window key → total_results), for completeness accounting;
 * - `:staged` (list of JSON documents waiting for an object), `:claims` (write job claim →
 *   batch seq), `:open` (set of claimed, not yet stored, batch seqs), `:batch:<seq>` (hash of
 *   key, body, count), `:objects` (hash seq → `{key, records}`).
 * - upload runs: `:files` (hash file name → outcome JSON, listed in the manifest) and `:bytes`
 *   (hash file name → bytes read so far, for progress).
 *
 * Exactly once: a document is staged only when its `fetched` bit flips (atomic); a claim moves
 * staged documents into one batch under one sequence number (atomic); a batch always goes to
 * the same object key with the same bytes; only a stored batch is committed. A crash anywhere
 * leaves either staged documents (claimed later) or an open batch (stored again, same bytes).
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RunNotFoundError } from './errors.js';
import type { Kind, Window } from './queues.js';
import { RedisScript, type ScriptReply } from './redis-script.js';

/** Lifecycle of a run. */
export type RunState = 'running' | 'finalizing' | 'completed' | 'failed' | 'cancelled';

/** States a run never leaves (but for `resume` of a failed run). */
export const FINISHED_STATES: readonly RunState[] = ['completed', 'failed', 'cancelled'];

/** What a run moves: a TMDB catalog kind, or local files (`upload`). */
export type RunKind = Kind | 'upload' | 'sync';

/** How a run finds its titles. */
export type RunSource = 'discover' | 'search' | 'enrich';

/** Parameters a run was started with, as stored in its manifest. */
export interface RunParams {
  kind: RunKind;
  /** discover (a backfill, the default), search (`query`, `all_pages`) or enrich (`csv`, …). */
  source?: RunSource;
  from?: string;
  to?: string;
  /**
   * Backfill: TMDB discover filters passed through (`--param`). Search: `query` and `all_pages`
   * ('true'/'false'). Enrich: `csv`, `id_column` and `filter` (`column=value`).
   */
  params: Record<string, string>;
}

/** What `status` and `backfill --json` print. */
export interface RunSummary {
  runId: string;
  kind: RunKind;
  state: RunState;
  error: string | undefined;
  params: RunParams;
  createdAt: string;
  finishedAt: string | undefined;
  /** total_results TMDB reported for the whole query. */
  expected: number;
  discovered: number;
  fetched: number;
  notFound: number;
  failed: number;
  pagesPlanned: number;
  pagesDone: number;
  pagesFailed: number;
  objects: number;
  records: number;
  /** Titles TMDB reported that no window could reach (beyond the 500-page cap). */
  uncovered: number;
  /** Enrich runs: IMDB ids TMDB matched to no title. */
  unmatched: number;
  /** Sync runs: source objects copied, skipped (destination already equal, or source gone), failed. */
  copies?: CopyCounts;
}

/** Counts of a sync run's copies, by outcome. */
export interface CopyCounts {
  copied: number;
  skipped: number;
  failed: number;
}

/** What a sync run did with one source object, as listed in its manifest. */
export interface CopyRecord {
  source: string;
  destination: string;
  status: keyof CopyCounts;
  /** Bytes. */
  size: number;
  /** Unquoted ETag of the source. */
  etag: string;
  /** Why it was skipped or failed. */
  reason?: string;
}

/** A data object of a run, as listed in its manifest. */
export interface RunObject {
  seq: number;
  key: string;
  records: number;
}

/** A claimed batch ready to be stored. */
export interface Batch {
  seq: number;
  key: string;
  body: string;
  count: number;
}

const COMPLETE_CHECK = `
local function complete(base)
  local h = redis.call('HMGET', base, 'state', 'pagesPlanned', 'pagesDone', 'discovered', 'fetched', 'notFound', 'failed')
  if h[1] ~= 'running' then return 0 end
  local planned = tonumber(h[2] or '0')
  if planned == 0 or planned ~= tonumber(h[3] or '0') then return 0 end
  if tonumber(h[4] or '0') ~= tonumber(h[5] or '0') + tonumber(h[6] or '0') + tonumber(h[7] or '0') then return 0 end
  return 1
end
`;

/** KEYS: base. ARGV: page keys. Marks pages planned (idempotent). */
const PLAN = new RedisScript(`
local n = 0
for i = 1, #ARGV do
  if redis.call('HSETNX', KEYS[1] .. ':pages', ARGV[i], '0') == 1 then n = n + 1 end
end
if n > 0 then redis.call('HINCRBY', KEYS[1], 'pagesPlanned', n) end
return n
`);

/** KEYS: base. ARGV: page key, outcome (1 done, 2 failed). Returns 1 when the run is complete. */
const PAGE_DONE = new RedisScript(`${COMPLETE_CHECK}
local base = KEYS[1]
local v = redis.call('HGET', base .. ':pages', ARGV[1])
if v == '0' then
  redis.call('HSET', base .. ':pages', ARGV[1], ARGV[2])
  redis.call('HINCRBY', base, 'pagesDone', 1)
  if ARGV[2] == '2' then redis.call('HINCRBY', base, 'pagesFailed', 1) end
elseif v == '2' and ARGV[2] == '1' then
  redis.call('HSET', base .. ':pages', ARGV[1], '1')
  redis.call('HINCRBY', base, 'pagesFailed', -1)
end
return complete(base)
`);

/** KEYS: base. Returns 1 when the run is complete and still running (read only). */
const IS_COMPLETE = new RedisScript(`${COMPLETE_CHECK}
return complete(KEYS[1])
`);

/** KEYS: base. ARGV: ids. Returns the ids not yet discovered (read only). */
const UNSEEN = new RedisScript(`
local out = {}
for i = 1, #ARGV do
  if redis.call('GETBIT', KEYS[1] .. ':discovered', ARGV[i]) == 0 then out[#out + 1] = ARGV[i] end
end
return out
`);

/** KEYS: base. ARGV: ids. Sets their discovered bits, counting the new ones. */
const DISCOVER = new RedisScript(`
local n = 0
for i = 1, #ARGV do
  if redis.call('SETBIT', KEYS[1] .. ':discovered', ARGV[i], 1) == 0 then n = n + 1 end
end
if n > 0 then redis.call('HINCRBY', KEYS[1], 'discovered', n) end
return n
`);

/**
 * KEYS: base. ARGV: id, document JSON. Stages a fetched document once.
 * Returns {staged (1/0; -1 when the run is not running), stagedTotal, stagedLength, complete}.
 */
const STAGE = new RedisScript(`${COMPLETE_CHECK}
local base = KEYS[1]
if redis.call('HGET', base, 'state') ~= 'running' then return {-1, 0, 0, 0} end
if redis.call('GETBIT', base .. ':notfound', ARGV[1]) == 1 then return {0, 0, 0, complete(base)} end
if redis.call('SETBIT', base .. ':fetched', ARGV[1], 1) == 1 then return {0, 0, 0, complete(base)} end
redis.call('HINCRBY', base, 'fetched', 1)
if redis.call('SETBIT', base .. ':failed', ARGV[1], 0) == 1 then redis.call('HINCRBY', base, 'failed', -1) end
local len = redis.call('RPUSH', base .. ':staged', ARGV[2])
local total = redis.call('HINCRBY', base, 'stagedTotal', 1)
return {1, total, len, complete(base)}
`);

/**
 * KEYS: base. ARGV: id, bitmap ('notfound' | 'failed'), counter ('notFound' | 'failed').
 * Records a terminal outcome other than fetched, once. Returns 1 when the run is complete.
 */
const TERMINAL = new RedisScript(`${COMPLETE_CHECK}
local base = KEYS[1]
if redis.call('GETBIT', base .. ':fetched', ARGV[1]) == 0 and redis.call('GETBIT', base .. ':notfound', ARGV[1]) == 0 then
  if redis.call('SETBIT', base .. ':' .. ARGV[2], ARGV[1], 1) == 0 then redis.call('HINCRBY', base, ARGV[3], 1) end
end
return complete(base)
`);

/**
 * KEYS: base. ARGV: claim key, max records, flush (1/0), up-to (flush only while fewer than
 * this many documents were ever claimed; 0 = no bound), key base, seq digits.
 * Returns {} when nothing is to be written, {-1} when this claim was already stored,
 * else {seq, key, body, count}. A claim key always maps to the same batch.
 */
const CLAIM = new RedisScript(`
local base = KEYS[1]
local seq = redis.call('HGET', base .. ':claims', ARGV[1])
if seq then
  if redis.call('SISMEMBER', base .. ':open', seq) == 0 then return {-1} end
  local b = redis.call('HMGET', base .. ':batch:' .. seq, 'key', 'body', 'count')
  return {tonumber(seq), b[1], b[2], tonumber(b[3])}
end
local max = tonumber(ARGV[2])
local len = redis.call('LLEN', base .. ':staged')
if len == 0 or (ARGV[3] ~= '1' and len < max) then return {} end
local upTo = tonumber(ARGV[4])
if upTo > 0 and tonumber(redis.call('HGET', base, 'claimedTotal') or '0') >= upTo then return {} end
local items = redis.call('LRANGE', base .. ':staged', 0, max - 1)
redis.call('LTRIM', base .. ':staged', #items, -1)
redis.call('HINCRBY', base, 'claimedTotal', #items)
seq = redis.call('HINCRBY', base, 'seq', 1)
local key = ARGV[5] .. string.format('%0' .. ARGV[6] .. 'd', seq) .. '.jsonl.gz'
local body = table.concat(items, '\\n') .. '\\n'
redis.call('HSET', base .. ':batch:' .. seq, 'key', key, 'body', body, 'count', #items)
redis.call('HSET', base .. ':claims', ARGV[1], seq)
redis.call('SADD', base .. ':open', seq)
return {seq, key, body, #items}
`);

/** KEYS: base. ARGV: seq. Commits a stored batch once. */
const COMMIT = new RedisScript(`
local base = KEYS[1]
if redis.call('SREM', base .. ':open', ARGV[1]) == 0 then return 0 end
local b = redis.call('HMGET', base .. ':batch:' .. ARGV[1], 'key', 'count')
redis.call('HSET', base .. ':objects', ARGV[1], cjson.encode({key = b[1], records = tonumber(b[2])}))
redis.call('HINCRBY', base, 'objects', 1)
redis.call('HINCRBY', base, 'records', tonumber(b[2]))
redis.call('DEL', base .. ':batch:' .. ARGV[1])
return 1
`);

/** KEYS: base. ARGV: from state, to state, error, finishedAt. Compare-and-set of the state. */
const TRANSITION = new RedisScript(`
local s = redis.call('HGET', KEYS[1], 'state')
if not s then return 0 end
if ARGV[1] ~= '*' and s ~= ARGV[1] then return 0 end
if s == 'completed' or s == 'failed' then return 0 end
if s == 'cancelled' and ARGV[2] ~= 'cancelled' then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[2])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'error', ARGV[3]) end
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'finishedAt', ARGV[4]) end
return 1
`);

const asNumbers = (reply: ScriptReply): number[] =>
  Array.isArray(reply) ? reply.map((v) => Number(v)) : [];

/**
 * KEYS: base. ARGV: source key, record JSON, status. Records a copy outcome per source key
 * (`:copies` hash) and keeps the `copies.<status>` counters in step: a re-delivered job never
 * double-counts, and a later "skipped" (a replayed event) never hides that the run copied it.
 */
const RECORD_COPY = new RedisScript(`
local old = redis.call('HGET', KEYS[1] .. ':copies', ARGV[1])
local before = false
if old then before = cjson.decode(old).status end
if before == 'copied' and ARGV[3] == 'skipped' then return 0 end
redis.call('HSET', KEYS[1] .. ':copies', ARGV[1], ARGV[2])
if before == ARGV[3] then return 1 end
if before then redis.call('HINCRBY', KEYS[1], 'copies.' .. before, -1) end
redis.call('HINCRBY', KEYS[1], 'copies.' .. ARGV[3], 1)
return 1
`);

/** How long a finished run's summary and manifest listing stay in Redis, s. */
const FINISHED_RUN_TTL_S = 30 * 24 * 3600;

/** Run bookkeeping for one fleet (one Redis, one prefix). */
export class RunStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  /** The hash key of a run; other keys of the run extend it. */
  base(runId: string): string {
    return `${this.prefix}:run:${runId}`;
  }

  /**
   * Records a new run in state `running`, unless a run with the same parameters is running
   * (and `force` is false).
   * @returns undefined when created, else the id of the running run with these parameters.
   */
  async create(runId: string, params: RunParams, lakePrefix: string, force = false): Promise<string | undefined> {
    const activeKey = this.activeKey(params);
    const holder = await this.redis.get(activeKey);
    if (holder && !force && (await this.state(holder)) === 'running') return holder;
    const now = new Date().toISOString();
    await this.redis
      .multi()
      .hset(this.base(runId), {
        kind: params.kind,
        params: JSON.stringify(params),
        state: 'running',
        createdAt: now,
        lakePrefix,
      })
      .zadd(`${this.prefix}:runs`, Date.now(), runId)
      .set(activeKey, runId)
      .exec();
    return undefined;
  }

  /** The key naming the running run of a parameter set (kind, dates, filters). */
  private activeKey(params: RunParams): string {
    const sorted = Object.fromEntries(Object.entries(params.params).sort(([a], [b]) => a.localeCompare(b)));
    const fingerprint = createHash('sha1')
      .update(JSON.stringify([params.source ?? 'discover', params.kind, params.from ?? null, params.to ?? null, sorted]))
      .digest('hex');
    return `${this.prefix}:active:${fingerprint}`;
  }

  /** Forgets that a run is the running one for its parameters (when it ends). */
  private async clearActive(runId: string): Promise<void> {
    const raw = await this.redis.hget(this.base(runId), 'params');
    if (!raw) return;
    const key = this.activeKey(JSON.parse(raw) as RunParams);
    if ((await this.redis.get(key)) === runId) await this.redis.del(key);
  }

  /** True when the run is complete (every page done, every id terminal) and still running. */
  async isComplete(runId: string): Promise<boolean> {
    return (await IS_COMPLETE.run(this.redis, [this.base(runId)], [])) === 1;
  }

  /** Puts a failed run back to `running` (resume), clearing its error. */
  async reopen(runId: string): Promise<void> {
    const base = this.base(runId);
    const raw = await this.redis.hget(base, 'params');
    await this.redis.multi().hset(base, 'state', 'running').hdel(base, 'error', 'finishedAt').exec();
    if (raw) await this.redis.set(this.activeKey(JSON.parse(raw) as RunParams), runId);
  }

  /** Pages planned and not yet done (or failed), by page key. */
  async unfinishedPages(runId: string): Promise<string[]> {
    const all = await this.redis.hgetall(`${this.base(runId)}:pages`);
    return Object.entries(all)
      .filter(([, v]) => v !== '1')
      .map(([k]) => k);
  }

  /** total_results of a leaf window, if known. */
  async leafTotal(runId: string, windowKey: string): Promise<number | undefined> {
    const v = await this.redis.hget(`${this.base(runId)}:leaves`, windowKey);
    return v === null ? undefined : Number(v);
  }

  /** Ids discovered but neither fetched, not found nor failed (read from the bitmaps). */
  async unfinishedIds(runId: string): Promise<number[]> {
    const base = this.base(runId);
    const [discovered, fetched, notFound, failed] = await Promise.all(
      ['discovered', 'fetched', 'notfound', 'failed'].map((b) => this.redis.getBuffer(`${base}:${b}`)),
    );
    const out: number[] = [];
    if (!discovered) return out;
    const byte = (buf: Buffer | null | undefined, i: number) => (buf && i < buf.length ? (buf[i] ?? 0) : 0);
    for (let i = 0; i < discovered.length; i++) {
      const open = (discovered[i] ?? 0) & ~(byte(fetched, i) | byte(notFound, i) | byte(failed, i)) & 0xff;
      if (open === 0) continue;
      for (let bit = 0; bit < 8; bit++) if (open & (0x80 >> bit)) out.push(i * 8 + bit);
    }
    return out;
  }

  /** Staged documents ever (the `upTo` bound of a flush that writes all of them). */
  async stagedTotal(runId: string): Promise<number> {
    return Number((await this.redis.hget(this.base(runId), 'stagedTotal')) ?? 0);
  }

  /** The stored parameters and lake prefix of a run. @throws RunNotFoundError */
  async describe(runId: string): Promise<{ params: RunParams; state: RunState; lakePrefix: string }> {
    const [params, state, lakePrefix] = await this.redis.hmget(this.base(runId), 'params', 'state', 'lakePrefix');
    if (!params || !state || !lakePrefix) throw new RunNotFoundError(runId);
    return { params: JSON.parse(params) as RunParams, state: state as RunState, lakePrefix };
  }

  /** The state of a run, or undefined when unknown. */
  async state(runId: string): Promise<RunState | undefined> {
    return ((await this.redis.hget(this.base(runId), 'state')) ?? undefined) as RunState | undefined;
  }

  /** Marks pages planned; returns how many were new. */
  async plan(runId: string, pageKeys: string[]): Promise<number> {
    if (pageKeys.length === 0) return 0;
    return Number(await PLAN.run(this.redis, [this.base(runId)], pageKeys));
  }

  /**
   * Marks a page done (or failed, idempotently); returns true when the run is complete and still
   * running — also on a re-delivered job, so the final write job is enqueued even if the process
   * that completed the run died before enqueueing it.
   */
  async pageDone(runId: string, pageKey: string, failed = false): Promise<boolean> {
    return (await PAGE_DONE.run(this.redis, [this.base(runId)], [pageKey, failed ? 2 : 1])) === 1;
  }

  /** The ids among `ids` this run has not discovered yet. */
  async unseen(runId: string, ids: number[]): Promise<number[]> {
    if (ids.length === 0) return [];
    return asNumbers(await UNSEEN.run(this.redis, [this.base(runId)], ids));
  }

  /** Marks ids discovered (after their details jobs were enqueued). */
  async discovered(runId: string, ids: number[]): Promise<void> {
    if (ids.length > 0) await DISCOVER.run(this.redis, [this.base(runId)], ids);
  }

  /** Records total_results of the whole query (idempotent). */
  async setExpected(runId: string, total: number): Promise<void> {
    await this.redis.hsetnx(this.base(runId), 'expected', total);
  }

  /** Records a leaf window (one that fits the page cap) and its total_results. */
  async leaf(runId: string, windowKey: string, total: number): Promise<void> {
    await this.redis.hset(`${this.base(runId)}:leaves`, windowKey, total);
  }

  /** Records what a copy job did with a source object (idempotent per source key). */
  async recordCopy(runId: string, record: CopyRecord): Promise<void> {
    const { source, ...rest } = record;
    await RECORD_COPY.run(this.redis, [this.base(runId)], [source, JSON.stringify(rest), record.status]);
  }

  /** Every copy outcome of a sync run, by source key. */
  async copies(runId: string): Promise<CopyRecord[]> {
    const all = await this.redis.hgetall(`${this.base(runId)}:copies`);
    return Object.entries(all)
      .map(([source, v]) => ({ source, ...(JSON.parse(v) as Omit<CopyRecord, 'source'>) }))
      .sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0));
  }

  /** Records an IMDB id `GET /find` matched to no title of the run's kind (idempotent). */
  async unmatched(runId: string, imdbId: string): Promise<void> {
    await this.redis.hset(`${this.base(runId)}:unmatched`, imdbId, 1);
  }

  /** IMDB ids without a TMDB match, sorted. */
  async unmatchedIds(runId: string): Promise<string[]> {
    return (await this.redis.hkeys(`${this.base(runId)}:unmatched`)).sort();
  }

  /**
   * Upload runs: records the outcome of one file (a JSON object: key, bytes, rows, sha256,
   * status), idempotently by file name, in the `:files` hash.
   */
  async recordFile(runId: string, name: string, json: string): Promise<void> {
    await this.redis.hset(`${this.base(runId)}:files`, name, json);
  }

  /** Upload runs: every recorded file outcome (parsed JSON), by file name. */
  async files(runId: string): Promise<Record<string, unknown>> {
    const all = await this.redis.hgetall(`${this.base(runId)}:files`);
    return Object.fromEntries(
      Object.entries(all)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, v]) => [name, JSON.parse(v) as unknown]),
    );
  }

  /**
   * Upload runs: bytes of a file read so far (set, not added, so a retried upload never counts
   * twice), in the `:bytes` hash.
   */
  async fileBytes(runId: string, name: string, bytes: number): Promise<void> {
    await this.redis.hset(`${this.base(runId)}:bytes`, name, bytes);
  }

  /** Upload runs: bytes read so far over every file of the run. */
  async bytesDone(runId: string): Promise<number> {
    const all = await this.redis.hvals(`${this.base(runId)}:bytes`);
    return all.reduce((sum, v) => sum + Number(v), 0);
  }

  /** Records a window that still exceeds the page cap and cannot be split further. */
  async uncovered(runId: string, windowKey: string, total: number, reachable: number): Promise<void> {
    await this.redis.hset(
      `${this.base(runId)}:uncovered`,
      windowKey,
      JSON.stringify({ total, reachable, missed: total - reachable }),
    );
  }

  /**
   * Stages a fetched document once.
   * @returns staged: false when already staged or the run is over; stagedTotal and
   * stagedLength after the push; complete: the run just became complete.
   */
  async stage(
    runId: string,
    id: number,
    document: string,
  ): Promise<{ staged: boolean; active: boolean; stagedTotal: number; stagedLength: number; complete: boolean }> {
    const [staged, total, length, complete] = asNumbers(
      await STAGE.run(this.redis, [this.base(runId)], [id, document]),
    );
    return {
      staged: staged === 1,
      active: staged !== -1,
      stagedTotal: total ?? 0,
      stagedLength: length ?? 0,
      complete: complete === 1,
    };
  }

  /** Records a title TMDB does not have (404) or whose job failed for good. */
  async terminal(runId: string, id: number, outcome: 'notFound' | 'failed'): Promise<boolean> {
    const bitmap = outcome === 'notFound' ? 'notfound' : 'failed';
    return (await TERMINAL.run(this.redis, [this.base(runId)], [id, bitmap, outcome])) === 1;
  }

  /**
   * Claims staged documents into a batch, or returns the batch this claim already holds.
   * @param claimKey - stable per write job (and per iteration of a flush).
   * @param options.flush - claim even when fewer than `maxRecords` are staged.
   * @param options.upTo - with flush: only while fewer documents than this were ever claimed
   * (so a tail flush writes the documents staged before it was scheduled, not newer ones).
   * @returns the batch; `'stored'` when this claim was already committed; undefined when there
   * is nothing to write.
   */
  async claim(
    runId: string,
    claimKey: string,
    options: { maxRecords: number; flush: boolean; upTo?: number; keyBase: string; seqDigits: number },
  ): Promise<Batch | 'stored' | undefined> {
    const reply = await CLAIM.run(
      this.redis,
      [this.base(runId)],
      [
        claimKey,
        options.maxRecords,
        options.flush ? 1 : 0,
        options.upTo ?? 0,
        options.keyBase,
        options.seqDigits,
      ],
    );
    if (!Array.isArray(reply) || reply.length === 0) return undefined;
    if (reply[0] === -1) return 'stored';
    const [seq, key, body, count] = reply;
    return { seq: Number(seq), key: String(key), body: String(body), count: Number(count) };
  }

  /** Batches claimed but not yet stored (left by a crash or a failed write job). */
  async openBatches(runId: string): Promise<Batch[]> {
    const base = this.base(runId);
    const seqs = await this.redis.smembers(`${base}:open`);
    const out: Batch[] = [];
    for (const seq of seqs.map(Number).sort((a, b) => a - b)) {
      const [key, body, count] = await this.redis.hmget(`${base}:batch:${seq}`, 'key', 'body', 'count');
      if (key && body !== null && body !== undefined && count) out.push({ seq, key, body, count: Number(count) });
    }
    return out;
  }

  /** Commits a stored batch (idempotent). */
  async commit(runId: string, seq: number): Promise<void> {
    await COMMIT.run(this.redis, [this.base(runId)], [seq]);
  }

  /** Number of documents staged and not yet in a batch. */
  async stagedLength(runId: string): Promise<number> {
    return this.redis.llen(`${this.base(runId)}:staged`);
  }

  /** Data objects of a run, by sequence number. */
  async objects(runId: string): Promise<RunObject[]> {
    const all = await this.redis.hgetall(`${this.base(runId)}:objects`);
    return Object.entries(all)
      .map(([seq, v]) => ({ seq: Number(seq), ...(JSON.parse(v) as { key: string; records: number }) }))
      .sort((a, b) => a.seq - b.seq);
  }

  /** Windows that exceed the page cap and could not be split further. */
  async uncoveredWindows(runId: string): Promise<{ window: string; total: number; reachable: number; missed: number }[]> {
    const all = await this.redis.hgetall(`${this.base(runId)}:uncovered`);
    return Object.entries(all).map(([window, v]) => ({
      window,
      ...(JSON.parse(v) as { total: number; reachable: number; missed: number }),
    }));
  }

  /**
   * Compare-and-set of a run's state (`from` '*' = any unfinished state); `finish` stamps
   * finishedAt (by default for completed and failed; a cancelled run is finished by its final
   * write job, once its manifest is written).
   * @returns true when the state changed.
   */
  async transition(
    runId: string,
    from: RunState | '*',
    to: RunState,
    error?: string,
    finish = to === 'completed' || to === 'failed',
  ): Promise<boolean> {
    const finishedAt = finish ? new Date().toISOString() : '';
    const changed = await TRANSITION.run(this.redis, [this.base(runId)], [from, to, error ?? '', finishedAt]);
    return changed === 1;
  }

  /** Fails a running run (e.g. TMDB refused the credential). */
  async fail(runId: string, error: string): Promise<boolean> {
    const changed = await this.transition(runId, '*', 'failed', error);
    if (changed) await this.clearActive(runId);
    return changed;
  }

  /** Frees a finished run's working keys; the summary and object list stay for 30 days. */
  async release(runId: string): Promise<void> {
    const base = this.base(runId);
    await this.clearActive(runId);
    await this.redis
      .multi()
      .del(`${base}:discovered`, `${base}:fetched`, `${base}:notfound`, `${base}:failed`, `${base}:pages`)
      .del(`${base}:claims`, `${base}:staged`)
      .expire(base, FINISHED_RUN_TTL_S)
      .expire(`${base}:objects`, FINISHED_RUN_TTL_S)
      .expire(`${base}:leaves`, FINISHED_RUN_TTL_S)
      .expire(`${base}:uncovered`, FINISHED_RUN_TTL_S)
      .expire(`${base}:unmatched`, FINISHED_RUN_TTL_S)
      .expire(`${base}:copies`, FINISHED_RUN_TTL_S)
      .expire(`${base}:files`, FINISHED_RUN_TTL_S)
      .del(`${base}:bytes`)
      .exec();
  }

  /** The summary of a run. @throws RunNotFoundError */
  async summary(runId: string): Promise<RunSummary> {
    const base = this.base(runId);
    const [h, uncovered, unmatched] = await Promise.all([
      this.redis.hgetall(base),
      this.redis.hvals(`${base}:uncovered`),
      this.redis.hlen(`${base}:unmatched`),
    ]);
    if (!h.state || !h.params) throw new RunNotFoundError(runId);
    const n = (v: string | undefined) => Number(v ?? 0);
    return {
      runId,
      kind: h.kind as RunKind,
      state: h.state as RunState,
      error: h.error,
      params: JSON.parse(h.params) as RunParams,
      createdAt: h.createdAt ?? '',
      finishedAt: h.finishedAt,
      expected: n(h.expected),
      discovered: n(h.discovered),
      fetched: n(h.fetched),
      notFound: n(h.notFound),
      failed: n(h.failed),
      pagesPlanned: n(h.pagesPlanned),
      pagesDone: n(h.pagesDone),
      pagesFailed: n(h.pagesFailed),
      objects: n(h.objects),
      records: n(h.records),
      uncovered: uncovered.reduce((sum, v) => sum + (JSON.parse(v) as { missed: number }).missed, 0),
      unmatched,
      ...(h.kind === 'sync'
        ? { copies: { copied: n(h['copies.copied']), skipped: n(h['copies.skipped']), failed: n(h['copies.failed']) } }
        : {}),
    };
  }
}

/** A stable key for a window, usable in job ids (no `:`). */
export function windowKey(w: Window): string {
  const dates = `${w.from ?? 'start'}_${w.to ?? 'end'}`;
  return w.voteMin === undefined && w.voteMax === undefined
    ? dates
    : `${dates}_v${w.voteMin ?? 0}-${w.voteMax ?? 'max'}`;
}

/** The page key of a window's page in the run's `:pages` hash. */
export function pageKey(w: Window, page: number): string {
  return `${windowKey(w)}#${page}`;
}

/** The window a {@link windowKey} names (its inverse). */
export function parseWindowKey(key: string): Window {
  const m = /^([^_]+)_([^_]+)(?:_v(\d+)-(\d+|max))?$/.exec(key);
  if (!m) throw new Error(`not a window key: ${key}`);
  const w: Window = {};
  if (m[1] !== 'start') w.from = m[1];
  if (m[2] !== 'end') w.to = m[2];
  if (m[3] !== undefined) w.voteMin = Number(m[3]);
  if (m[4] !== undefined && m[4] !== 'max') w.voteMax = Number(m[4]);
  return w;
}
