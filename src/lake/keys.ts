/**
 * Object key layout of the raw zone:
 * `<prefix>/<kind>/<YYYY>/<MM>/<DD>/<runId>-<seq>.jsonl.gz` (UTC ingestion date) for data
 * objects and `<prefix>/_runs/<runId>/manifest.json` for a run's manifest.
 */

/** The part of a data object key before the sequence number, for a UTC ingestion date. */
export function dataKeyBase(prefix: string, kind: string, runId: string, at: Date): string {
  const yyyy = String(at.getUTCFullYear());
  const mm = String(at.getUTCMonth() + 1).padStart(2, '0');
  const dd = String(at.getUTCDate()).padStart(2, '0');
  return `${prefix}/${kind}/${yyyy}/${mm}/${dd}/${runId}-`;
}

/** Digits of the zero-padded batch sequence number in data object keys. */
export const SEQ_DIGITS = 6;

/** A complete data object key. */
export function dataKey(base: string, seq: number): string {
  return `${base}${String(seq).padStart(SEQ_DIGITS, '0')}.jsonl.gz`;
}

/** The manifest key of a run. */
export function manifestKey(prefix: string, runId: string): string {
  return `${prefix}/_runs/${runId}/manifest.json`;
}
