/**
 * A Lua script run with EVALSHA, falling back to EVAL when Redis has not cached it (after a
 * restart, or on a new server). Scripts are atomic: the run bookkeeping relies on that.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/** Reply shape of our scripts: integers, strings, nil or arrays of them. */
export type ScriptReply = number | string | null | ScriptReply[];

export class RedisScript {
  readonly sha: string;
  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /** Runs the script with `keys` and `args`. */
  async run(redis: Redis, keys: string[], args: (string | number)[]): Promise<ScriptReply> {
    try {
      return (await redis.evalsha(this.sha, keys.length, ...keys, ...args)) as ScriptReply;
    } catch (err) {
      if (!String((err as Error).message).includes('NOSCRIPT')) throw err;
      return (await redis.eval(this.source, keys.length, ...keys, ...args)) as ScriptReply;
    }
  }
}
