/**
 * The run store: compact, idempotent bookkeeping of every run in Redis, one object per process
 * (`fleet.runs`). Each group of operations lives in the module named for its job:
 * lifecycle.ts (create, state, summary, release), planning.ts (pages and windows), titles.ts
 * (id bitmaps), staging.ts (exactly-once staging and batches), reconcile.ts (the run against
 * the lake after Redis lost state), ledgers.ts (copies, files, unmatched ids), audit.ts (the
 * audit a finished run writes in its manifest), feeds.ts (export checkpoints and leases, changes
 * watermarks). Keys: keys.ts. Scripts: lua/*.lua.
 */
import type { Redis } from 'ioredis';
import { audit } from './audit.js';
import { runContext, type RunStoreOptions } from './context.js';
import { feeds } from './feeds.js';
import { ledgers } from './ledgers.js';
import { lifecycle } from './lifecycle.js';
import { planning, windowTotals } from './planning.js';
import { reconciliation } from './reconcile.js';
import { staging } from './staging.js';
import { titles } from './titles.js';

/** Opens the run store of a fleet (one Redis connection, one key prefix). */
export function openRunStore(redis: Redis, prefix: string, options: RunStoreOptions = {}) {
  const ctx = runContext(redis, prefix, options);
  return {
    keysOf: ctx.keys,
    ...lifecycle(ctx),
    ...planning(ctx),
    ...windowTotals(ctx),
    ...titles(ctx),
    ...staging(ctx),
    ...reconciliation(ctx),
    ...ledgers(ctx),
    ...audit(ctx),
    ...feeds(ctx),
  };
}

/** Every operation on run state. */
export type RunStore = ReturnType<typeof openRunStore>;
export type { RunStoreOptions } from './context.js';
