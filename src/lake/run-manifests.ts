/**
 * Finding past runs in the lake when Redis no longer knows them (lost, or older than a finished
 * run's 30 days there): manifests are `<prefix>/_runs/<runId>/manifest.json`, and run ids of a
 * kind sort by start time (`<kind>-<yyyymmddThhmmss>-<hex>`), so the newest are found first.
 */
import { readManifest, type Manifest } from './manifest.js';
import type { ObjectStore } from './store.js';

/** Manifests read at most while looking back (the newest first). */
const LOOK_BACK = 500;

/**
 * Walks a kind's manifests from the newest run to the oldest (S3 ListObjectsV2 under
 * `<prefix>/_runs/<kind>-`, then GetObject each) and returns the first value `pick` gives.
 * @param pick - a value for a manifest, or undefined to look further back.
 * @returns the value and the run it came from, or undefined when no manifest (among the newest
 * {@link LOOK_BACK}) gives one.
 */
export async function newestFromManifests<T>(
  store: ObjectStore,
  prefix: string,
  kind: string,
  pick: (manifest: Manifest) => T | undefined,
): Promise<{ value: T; runId: string } | undefined> {
  const runsPrefix = `${prefix}/_runs/`;
  const runIds = (await store.list(`${runsPrefix}${kind}-`))
    .filter((key) => key.endsWith('/manifest.json'))
    .map((key) => key.slice(runsPrefix.length, -'/manifest.json'.length))
    .filter((runId) => !runId.includes('/'))
    .sort()
    .reverse()
    .slice(0, LOOK_BACK);
  for (const runId of runIds) {
    const manifest = await readManifest(store, prefix, runId);
    const value = manifest ? pick(manifest) : undefined;
    if (value !== undefined) return { value, runId };
  }
  return undefined;
}
