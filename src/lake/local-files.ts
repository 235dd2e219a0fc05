/**
 * Key layout and name rules of local files moved into the raw zone:
 * `<prefix>/<dataset>/<YYYY>/<MM>/<DD>/<file name>` (UTC ingestion date), e.g.
 * `raw/local/csv/movies/2026/11/21/movies.csv`. Pure functions: no I/O.
 */
import { UsageError } from '../errors.js';

/** Default key prefix of local files (`upload --prefix`). */
export const DEFAULT_LOCAL_PREFIX = 'raw/local/csv';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Checks one key segment (a dataset or a file name): non-empty, at most 255 bytes, no `/` or
 * `\`, no control characters, not `.` or `..`, no leading `.` (no hidden objects).
 * @param label - what the value is, for the message (e.g. `--dataset`, `file name`).
 * @throws UsageError naming the value and what was expected.
 */
export function checkKeySegment(label: string, value: string): string {
  const bad =
    value === '' ||
    Buffer.byteLength(value) > 255 ||
    /[/\\]/.test(value) ||
    CONTROL.test(value) ||
    value.startsWith('.');
  if (bad) {
    throw new UsageError(
      `${label} ${JSON.stringify(value)} cannot be part of an object key: expected a name without "/", "\\", control characters or a leading "." (so it cannot escape the prefix)`,
    );
  }
  return value;
}

/**
 * Checks a key prefix like S3_PREFIX: relative, no leading or trailing `/`, no empty, `.` or
 * `..` segments, no control characters.
 * @throws UsageError naming the value and what was expected.
 */
export function checkKeyPrefix(label: string, value: string): string {
  const segments = value.split('/');
  if (value === '' || CONTROL.test(value) || value.includes('\\') || segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw new UsageError(
      `${label} ${JSON.stringify(value)} is not a key prefix: expected a relative prefix such as ${DEFAULT_LOCAL_PREFIX}, without a leading or trailing "/" or "." / ".." segments`,
    );
  }
  return value;
}

/**
 * The object key of a local file for a UTC ingestion date.
 * @throws UsageError when the prefix, dataset or name would escape the prefix.
 */
export function localFileKey(prefix: string, dataset: string, name: string, at: Date): string {
  checkKeyPrefix('--prefix', prefix);
  checkKeySegment('--dataset', dataset);
  checkKeySegment('file name', name);
  const yyyy = String(at.getUTCFullYear());
  const mm = String(at.getUTCMonth() + 1).padStart(2, '0');
  const dd = String(at.getUTCDate()).padStart(2, '0');
  return `${prefix}/${dataset}/${yyyy}/${mm}/${dd}/${name}`;
}
