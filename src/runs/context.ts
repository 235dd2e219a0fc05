/** What every part of the run store shares: the connection, the fleet's key prefix, its options. */
import type { Redis } from 'ioredis';
import { runKeys, type RunKeys } from './keys.js';

/** Options of the run store. */
export interface RunStoreOptions {
  /**
   * How long an armed tail flush stays armed without its tail job disarming it, ms: an arm whose
   * tail job never came (a crash between staging and enqueueing it) lapses after this, and the
   * next staged document arms a new one. The fleet uses BATCH_MAX_WAIT_MS + 30 s.
   * @defaultValue 35000
   */
  tailArmTtlMs?: number;
}

export interface RunContext {
  redis: Redis;
  prefix: string;
  /** See {@link RunStoreOptions.tailArmTtlMs}. */
  tailArmTtlMs: number;
  /** The keys of one run. */
  keys(runId: string): RunKeys;
}

/** A context over one connection and prefix. */
export function runContext(redis: Redis, prefix: string, options: RunStoreOptions = {}): RunContext {
  return { redis, prefix, tailArmTtlMs: options.tailArmTtlMs ?? 35_000, keys: (runId) => runKeys(prefix, runId) };
}
