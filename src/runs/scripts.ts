/**
 * The run state's Lua scripts (`./lua/*.lua`, each with an Input/Output header), one typed
 * decoder per reply.
 */
import { LuaScript, reply, type ScriptReply } from '../redis/lua.js';
import type { Batch } from './types.js';

const dir = new URL('./lua/', import.meta.url);

/** What staging a document did. */
export interface StageResult {
  /** False when already staged, not found, or the run is over. */
  staged: boolean;
  /** False when the run is not running. */
  active: boolean;
  /** Documents ever staged in the run, after this one. */
  stagedTotal: number;
  /** Documents waiting in the staged list, after this one. */
  stagedLength: number;
  /** The run just became complete. */
  complete: boolean;
  /** Documents of the run staged and not yet in a stored object (the staging bound's measure). */
  pending: number;
  /** When this call armed the run's tail flush: its arm number (enqueue its tail job); else 0. */
  tailArm: number;
}

function decodeStage(r: ScriptReply): StageResult {
  const [staged, total, length, complete, pending, arm] = reply.numbers(r);
  return {
    staged: staged === 1,
    active: staged !== -1,
    stagedTotal: total ?? 0,
    stagedLength: length ?? 0,
    complete: complete === 1,
    pending: pending ?? 0,
    tailArm: arm ?? 0,
  };
}

/**
 * What a claim found: a batch to store; `stored` (this claim was committed before); `none`
 * (nothing to write: fewer than a full batch, or the run is no longer running); `empty` (a
 * flush found nothing staged, and disarmed the tail flush); `more` (a flush reached its bound
 * with documents still staged: the tail flush is armed again as `arm`).
 */
export type ClaimOutcome =
  | { kind: 'batch'; batch: Batch }
  | { kind: 'stored' }
  | { kind: 'none' }
  | { kind: 'empty' }
  | { kind: 'more'; arm: number };

function decodeClaim(r: ScriptReply): ClaimOutcome {
  if (!Array.isArray(r) || r.length === 0) return { kind: 'none' };
  if (r[0] === -1) return { kind: 'stored' };
  if (r[0] === -2) return { kind: 'empty' };
  if (r[0] === -3) return { kind: 'more', arm: Number(r[1]) };
  const [seq, key, body, count] = r;
  return { kind: 'batch', batch: { seq: Number(seq), key: String(key), body: String(body), count: Number(count) } };
}

/** What a commit found: `committed` now, `before` (a re-delivery), or `unknown` to Redis (reconcile). */
export type CommitOutcome = 'committed' | 'before' | 'unknown';

const decodeCommit = (r: ScriptReply): CommitOutcome => (r === 1 ? 'committed' : r === 0 ? 'before' : 'unknown');

/** What reconciling a run with the lake changed in Redis. */
export interface ReconcileResult {
  /** Lake objects Redis did not know, now registered. */
  registered: number;
  /** Ids newly counted as fetched (their documents are in the lake). */
  fetched: number;
  /** Documents taken out of the staged list and open batches (already in the lake). */
  removed: number;
  /** Documents put back on the staged list (their batch's key was taken in the lake). */
  restaged: number;
  /** The tail flush this call armed (enqueue its tail job), else 0. */
  tailArm: number;
}

function decodeReconcile(r: ScriptReply): ReconcileResult {
  const [registered = 0, fetched = 0, removedStaged = 0, removedOpen = 0, restaged = 0, tailArm = 0] = reply.numbers(r);
  return { registered, fetched, removed: removedStaged + removedOpen, restaged, tailArm };
}

export const scripts = {
  plan: new LuaScript(dir, 'plan-2.lua', reply.number),
  pageDone: new LuaScript(dir, 'page-done-3.lua', reply.flag),
  isComplete: new LuaScript(dir, 'is-complete-1.lua', reply.flag),
  unseen: new LuaScript(dir, 'unseen-1.lua', reply.numbers),
  discover: new LuaScript(dir, 'discover-3.lua', reply.number),
  stage: new LuaScript(dir, 'stage-6.lua', decodeStage),
  terminal: new LuaScript(dir, 'terminal-4.lua', reply.flag),
  claim: new LuaScript(dir, 'claim-6.lua', decodeClaim),
  commit: new LuaScript(dir, 'commit-4.lua', decodeCommit),
  reconcile: new LuaScript(dir, 'reconcile-11.lua', decodeReconcile),
  unlock: new LuaScript(dir, 'unlock-1.lua', reply.flag),
  extendLock: new LuaScript(dir, 'extend-lock-1.lua', reply.flag),
  transition: new LuaScript(dir, 'transition-1.lua', reply.flag),
  recordCopy: new LuaScript(dir, 'record-copy-2.lua', reply.flag),
  reopen: new LuaScript(dir, 'reopen-3.lua', reply.numbers),
  checkpoint: new LuaScript(dir, 'checkpoint-2.lua', reply.flag),
  watermark: new LuaScript(dir, 'watermark-1.lua', reply.flag),
  countLeaf: new LuaScript(dir, 'count-leaf-2.lua', reply.flag),
};
