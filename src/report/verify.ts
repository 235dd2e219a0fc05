/**
 * `verify`: re-reads a finished run from the lake the way a downstream job would — its manifest
 * (`lake/manifest.ts` readManifest), then every object it lists, streamed (gunzip, line by
 * line) — and checks the lake against the manifest: each listed object exists and holds its
 * listed record count, every line is a document with an id, no id appears twice across the
 * run, and the records add up to the manifest's summary. Memory: one line at a time, plus a
 * bitset of the ids seen (an eighth of a byte per possible id).
 */
import { LakeError } from '../errors.js';
import { manifestKey } from '../lake/keys.js';
import type { Manifest } from '../lake/manifest.js';
import type { ObjectStore } from '../lake/store.js';
import { AUDIT_LIST_CAP } from '../runs/types.js';
import { objectLines } from './read-run.js';

/** What `verify` concludes: the lake agrees with a complete run, with a partial one, or contradicts its manifest. */
export type VerifyVerdict = 'clean' | 'partial' | 'contradicted';

/** What `verify` found. Lists are capped at {@link AUDIT_LIST_CAP}; counts are exact. */
export interface VerifyResult {
  runId: string;
  kind: string;
  state: string;
  /** Where the manifest is (`<store location>/<key>`). */
  manifest: string;
  /** Objects the manifest lists, and the sum of their listed records. */
  objects: number;
  listedRecords: number;
  /** Records (lines) read from the objects that exist. */
  recordsRead: number;
  missingObjects: string[];
  wrongCounts: { key: string; listed: number; read: number }[];
  /** Objects that could not be read as gzipped JSON Lines documents with an id. */
  unreadable: { key: string; error: string }[];
  /** Ids that appear more than once across the run, with the objects holding them. */
  duplicateIds: { id: number; keys: string[] }[];
  duplicates: number;
  /** One line per contradiction between the lake and the manifest. */
  problems: string[];
  /** The manifest's own audit (absent from manifests written before audits). */
  audit: Manifest['audit'];
  verdict: VerifyVerdict;
}

/** A growable set of non-negative integers, one bit each. */
class IdSet {
  private bits = new Uint8Array(1 << 16);
  /** Adds `id`; returns false when it was there already. */
  add(id: number): boolean {
    const byte = id >>> 3;
    if (byte >= this.bits.length) {
      const grown = new Uint8Array(Math.max(byte + 1, this.bits.length * 2));
      grown.set(this.bits);
      this.bits = grown;
    }
    const mask = 1 << (id & 7);
    const seen = ((this.bits[byte] ?? 0) & mask) !== 0;
    this.bits[byte] = (this.bits[byte] ?? 0) | mask;
    return !seen;
  }
}

/** The TMDB id of a JSON Lines record. @throws Error when the line is not a document with an integer id ≥ 0. */
function idOf(line: string): number {
  const doc = JSON.parse(line) as { id?: unknown } | null;
  const id = doc?.id;
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) throw new Error('a line has no integer "id"');
  return id;
}

/** Reads every listed object once: counts, missing objects, unreadable ones, ids seen twice. */
async function readObjects(store: ObjectStore, manifest: Manifest, r: VerifyResult): Promise<Set<number>> {
  const seen = new IdSet();
  const twice = new Set<number>();
  for (const object of manifest.objects) {
    if ((await store.head(object.key)) === undefined) {
      r.missingObjects.push(object.key);
      continue;
    }
    let read = 0;
    try {
      for await (const line of objectLines(store, object.key, manifest.runId)) {
        read++;
        const id = idOf(line);
        if (!seen.add(id)) {
          r.duplicates++;
          if (twice.size < AUDIT_LIST_CAP) twice.add(id);
        }
      }
    } catch (err) {
      r.unreadable.push({ key: object.key, error: err instanceof LakeError ? err.message : `line ${read}: ${(err as Error).message}` });
    }
    r.recordsRead += read;
    if (read !== object.records) r.wrongCounts.push({ key: object.key, listed: object.records, read });
  }
  return twice;
}

/** Second pass, only when ids appear twice: which objects hold each of them. */
async function locateDuplicates(store: ObjectStore, manifest: Manifest, ids: Set<number>): Promise<VerifyResult['duplicateIds']> {
  const keys = new Map<number, string[]>([...ids].map((id) => [id, []]));
  for (const object of manifest.objects) {
    if ((await store.head(object.key)) === undefined) continue;
    try {
      for await (const line of objectLines(store, object.key, manifest.runId)) {
        const found = keys.get(idOf(line));
        if (found) found.push(object.key);
      }
    } catch {
      /* already reported as unreadable */
    }
  }
  return [...keys].sort(([a], [b]) => a - b).map(([id, where]) => ({ id, keys: where }));
}

/** The contradictions as lines, each naming what is wrong. */
function problemsOf(r: VerifyResult, manifest: Manifest): string[] {
  const out: string[] = [];
  for (const key of r.missingObjects) out.push(`object ${key} is listed in the manifest but missing from the lake`);
  for (const u of r.unreadable) out.push(`object ${u.key} cannot be read: ${u.error}`);
  for (const w of r.wrongCounts) out.push(`object ${w.key} holds ${w.read} records, the manifest lists ${w.listed}`);
  for (const d of r.duplicateIds) out.push(`id ${d.id} appears ${d.keys.length} times, in ${[...new Set(d.keys)].join(' and ')}`);
  if (r.duplicates > r.duplicateIds.length) out.push(`${r.duplicates} duplicate records in all`);
  const summary = manifest.summary as { records?: number; objects?: number } | undefined;
  if (summary?.records !== undefined && r.listedRecords !== summary.records) {
    out.push(`the listed objects add up to ${r.listedRecords} records, the manifest's summary says ${summary.records}`);
  }
  if (summary?.objects !== undefined && manifest.objects.length !== summary.objects) {
    out.push(`the manifest lists ${manifest.objects.length} objects, its summary says ${summary.objects}`);
  }
  return out;
}

/**
 * Verifies a run's objects against its manifest.
 * @param manifest - the run's manifest, as read from `store` (`readManifest`).
 * @returns what was found; `verdict` is `contradicted` when any problem was found, else
 *   `partial` when the run did not complete or its audit reports a shortfall, else `clean`.
 * @throws errors of the store other than a missing object (an unreachable S3, say).
 */
export async function verifyRun(store: ObjectStore, prefix: string, manifest: Manifest): Promise<VerifyResult> {
  const r: VerifyResult = {
    runId: manifest.runId,
    kind: manifest.kind,
    state: manifest.state,
    manifest: `${store.location}/${manifestKey(prefix, manifest.runId)}`,
    objects: manifest.objects.length,
    listedRecords: manifest.objects.reduce((sum, o) => sum + o.records, 0),
    recordsRead: 0,
    missingObjects: [],
    wrongCounts: [],
    unreadable: [],
    duplicateIds: [],
    duplicates: 0,
    problems: [],
    audit: manifest.audit,
    verdict: 'clean',
  };
  const twice = await readObjects(store, manifest, r);
  if (twice.size > 0) r.duplicateIds = await locateDuplicates(store, manifest, twice);
  r.problems = problemsOf(r, manifest);
  const shortfall = manifest.state !== 'completed' || manifest.audit?.verdict === 'partial';
  r.verdict = r.problems.length > 0 ? 'contradicted' : shortfall ? 'partial' : 'clean';
  return r;
}
