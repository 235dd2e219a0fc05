/**
 * Reads a run's output back from the lake the way a user would: list the data objects under
 * the prefix, gunzip each, count ids; read the manifest.
 */
import { loadConfig } from '../../src/config.js';
import { decodeJsonLines } from '../../src/lake/encode.js';
import { manifestKey } from '../../src/lake/keys.js';
import { openStore } from '../../src/lake/store.js';

export interface LakeRun {
  /** Data object keys of the run, sorted. */
  keys: string[];
  /** Every record of every object, with the key it came from. */
  records: { key: string; doc: Record<string, unknown> }[];
  /** How many times each id appears across the run's objects. */
  idCounts: Map<number, number>;
  manifest: {
    runId: string;
    state: string;
    objects: { key: string; records: number }[];
    summary: Record<string, number>;
    uncoveredWindows: unknown[];
  };
}

/** Reads every object of `runId` under `<S3_PREFIX>/<kind>/` with the given fleet environment. */
export async function readRun(env: Record<string, string>, kind: string, runId: string): Promise<LakeRun> {
  const config = loadConfig(env);
  const store = openStore(config);
  const prefix = config.lake.prefix;
  const keys = (await store.list(`${prefix}/${kind}/`)).filter((k) => k.includes(`/${runId}-`));
  const records: LakeRun['records'] = [];
  const idCounts = new Map<number, number>();
  for (const key of keys) {
    for (const doc of decodeJsonLines(await store.get(key)) as Record<string, unknown>[]) {
      records.push({ key, doc });
      const id = Number(doc.id);
      idCounts.set(id, (idCounts.get(id) ?? 0) + 1);
    }
  }
  const manifest = JSON.parse((await store.get(manifestKey(prefix, runId))).toString('utf8')) as LakeRun['manifest'];
  return { keys, records, idCounts, manifest };
}
