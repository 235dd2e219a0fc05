/**
 * Lua scripts kept as `.lua` files, registered on a connection with ioredis `defineCommand`
 * (EVALSHA, falling back to EVAL when Redis has not cached the script: after a restart, or on a
 * new server; usable in pipelines). Scripts are atomic: run bookkeeping and the limiter rely on it.
 *
 * File convention, borrowed from BullMQ's `src/commands/*.lua`: `<name>-<number of keys>.lua`,
 * a header comment with `Input:` (KEYS and ARGV) and `Output:` sections, and shared functions
 * pulled in with a line `--- @include "<file>"` (resolved from the `includes/` folder beside it,
 * once per script). `npm run build` copies the `.lua` files beside the compiled modules.
 */
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

/** Reply shape of our scripts: integers, strings, nil or arrays of them. */
export type ScriptReply = number | string | null | ScriptReply[];

/** A connection's custom command, as ioredis adds it with `defineCommand`. */
type CustomCommand = (...keysAndArgs: (string | number)[]) => Promise<ScriptReply>;

/** A script file, ready to run on any connection, with the decoder of its reply. */
export class LuaScript<R> {
  /** The command name (the file name without `-<keys>.lua`, camel-cased). */
  readonly name: string;
  readonly numberOfKeys: number;
  readonly source: string;
  private readonly defined = new WeakSet<Redis>();

  /**
   * @param dir - the folder of the script (`new URL('./lua/', import.meta.url)`).
   * @param file - e.g. `stage-6.lua`.
   * @param decode - turns the raw reply into the caller's type.
   * @throws Error when the file name does not end in `-<keys>.lua` or an include is missing.
   */
  constructor(
    dir: URL,
    file: string,
    private readonly decode: (reply: ScriptReply) => R,
  ) {
    const m = /^(.+)-(\d+)\.lua$/.exec(file);
    if (!m) throw new Error(`Lua script file "${file}" is not named <name>-<keys>.lua`);
    this.name = `fleet_${(m[1] as string).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())}`;
    this.numberOfKeys = Number(m[2]);
    this.source = readFileSync(new URL(file, dir), 'utf8').replace(
      /^--- @include "([^"]+)"$/gm,
      (_, include: string) => readFileSync(new URL(`includes/${include}`, dir), 'utf8'),
    );
  }

  /**
   * Runs the script on `redis` (defining it on that connection the first time).
   * @throws Error when `keys` does not hold exactly the script's number of keys; Redis errors.
   */
  async run(redis: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<R> {
    if (keys.length !== this.numberOfKeys) {
      throw new Error(`${this.name} takes ${this.numberOfKeys} keys, got ${keys.length}`);
    }
    if (!this.defined.has(redis)) {
      redis.defineCommand(this.name, { numberOfKeys: this.numberOfKeys, lua: this.source });
      this.defined.add(redis);
    }
    const command = (redis as unknown as Record<string, CustomCommand>)[this.name] as CustomCommand;
    return this.decode(await command.call(redis, ...keys, ...args));
  }
}

/** Decoders shared by many scripts. */
export const reply = {
  /** An integer reply. */
  number: (r: ScriptReply): number => Number(r),
  /** 1 → true, anything else → false. */
  flag: (r: ScriptReply): boolean => r === 1,
  /** An array of integers (an empty array for nil). */
  numbers: (r: ScriptReply): number[] => (Array.isArray(r) ? r.map((v) => Number(v)) : []),
};
