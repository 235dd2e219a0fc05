/**
 * Job ids: deterministic from what a job does, so a re-delivered or re-enqueued job is
 * deduplicated by BullMQ while it exists (at-least-once delivery, exactly-once effects).
 * Formatted and parsed here only: `<type>.<runId>[.<part>…]`; run ids, window keys and IMDB ids
 * hold no `.`, and BullMQ ids must hold no `:`.
 *
 * | queue    | type     | id                              | one job per                         |
 * |----------|----------|---------------------------------|-------------------------------------|
 * | discover | page     | `d.<run>.<windowKey>.<page>`    | page of a window                    |
 * | discover | find     | `find.<run>.<imdbId>`           | IMDB id looked up                   |
 * | details  | title    | `t.<run>.<tmdbId>`              | title                               |
 * | write    | full     | `w.<run>.<n>`                   | n-th full batch                     |
 * | write    | tail     | `tail.<run>.<arm>`              | armed tail flush (run's arm counter)|
 * | write    | final    | `final.<run>`                   | run (manifest)                      |
 * | write    | resume   | `resume.<run>.<ms>`             | resume (flush what is staged)       |
 * | upload   | file     | `u.<run>.<index>`               | local file                          |
 * | copy     | copy     | `c.<run>.<sha1>`                | source object version               |
 */
import { parseWindowKey, windowKey, type Window } from '../tmdb/windows.js';

/** What a job id names. */
export type JobRef =
  | { type: 'page'; runId: string; window: Window; page: number }
  | { type: 'find'; runId: string; imdbId: string }
  | { type: 'title'; runId: string; id: number }
  | { type: 'full'; runId: string; batch: number }
  | { type: 'tail'; runId: string; arm: number }
  | { type: 'final'; runId: string }
  | { type: 'resume'; runId: string; at: number }
  | { type: 'file'; runId: string; index: number }
  | { type: 'copy'; runId: string; digest: string };

type Fields<T extends JobRef['type']> = Omit<Extract<JobRef, { type: T }>, 'type' | 'runId'>;

/** How each type's fields follow the run id: written as parts, read back from them. */
interface Spec<T extends JobRef['type']> {
  prefix: string;
  /** How many parts follow the run id. */
  arity: number;
  parts(fields: Fields<T>): string[];
  /** @throws Error when the parts are not this type's. */
  read(parts: string[]): Fields<T>;
}

const int = (v: string | undefined): number => {
  if (v === undefined || !/^\d+$/.test(v)) throw new Error(`"${v}" is not a whole number`);
  return Number(v);
};
const text = (v: string | undefined): string => {
  if (v === undefined || v === '') throw new Error('an empty part');
  return v;
};

const SPECS: { [T in JobRef['type']]: Spec<T> } = {
  page: {
    prefix: 'd',
    arity: 2,
    parts: (f) => [windowKey(f.window), String(f.page)],
    read: ([w, p]) => ({ window: parseWindowKey(text(w)), page: int(p) }),
  },
  find: { prefix: 'find', arity: 1, parts: (f) => [f.imdbId], read: ([v]) => ({ imdbId: text(v) }) },
  title: { prefix: 't', arity: 1, parts: (f) => [String(f.id)], read: ([v]) => ({ id: int(v) }) },
  full: { prefix: 'w', arity: 1, parts: (f) => [String(f.batch)], read: ([v]) => ({ batch: int(v) }) },
  tail: { prefix: 'tail', arity: 1, parts: (f) => [String(f.arm)], read: ([v]) => ({ arm: int(v) }) },
  final: { prefix: 'final', arity: 0, parts: () => [], read: () => ({}) },
  resume: { prefix: 'resume', arity: 1, parts: (f) => [String(f.at)], read: ([v]) => ({ at: int(v) }) },
  file: { prefix: 'u', arity: 1, parts: (f) => [String(f.index)], read: ([v]) => ({ index: int(v) }) },
  copy: { prefix: 'c', arity: 1, parts: (f) => [f.digest], read: ([v]) => ({ digest: text(v) }) },
};

const TYPE_OF = new Map(Object.entries(SPECS).map(([type, spec]) => [spec.prefix, type as JobRef['type']]));

/** The job id of `ref`. */
export function formatJobId(ref: JobRef): string {
  const { type, runId, ...fields } = ref;
  const spec = SPECS[type] as Spec<typeof type>;
  return [spec.prefix, runId, ...spec.parts(fields as Fields<typeof type>)].join('.');
}

/**
 * What a job id names (the inverse of {@link formatJobId}).
 * @throws Error when `id` is not one of the fleet's job ids.
 */
export function parseJobId(id: string): JobRef {
  const [prefix = '', runId = '', ...parts] = id.split('.');
  const type = TYPE_OF.get(prefix);
  try {
    if (!type || runId === '') throw new Error('unknown prefix or no run id');
    const spec = SPECS[type] as Spec<typeof type>;
    if (parts.length !== spec.arity) throw new Error(`${parts.length} parts after the run id, expected ${spec.arity}`);
    return { type, runId, ...spec.read(parts) } as JobRef;
  } catch (err) {
    throw new Error(`not a tmdb-fleet job id: ${id} (${(err as Error).message})`, { cause: err });
  }
}
