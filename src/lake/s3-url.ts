/**
 * `s3://bucket/prefix` locations of a sync: parsing, the folder semantics of a prefix, the
 * source → destination key mapping, the overlap check, and the decoding of keys in S3 event
 * notifications.
 */
import { UsageError } from '../errors.js';

/** A bucket and a key prefix: `''` (whole bucket) or a "folder" ending in `/`. */
export interface S3Location {
  bucket: string;
  /** `''` or ends with `/`, never starts with `/`. */
  prefix: string;
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Parses `s3://bucket[/prefix[/]]`. The prefix is a folder: `s3://b/source` and `s3://b/source/`
 * both mean the keys under `source/`. The prefix is taken literally (not URL-decoded), like the
 * AWS CLI does.
 * @param what - how the argument is named in the error, e.g. `source`.
 * @throws UsageError naming the value and what was expected.
 */
export function parseS3Url(value: string, what: string): S3Location {
  const m = /^s3:\/\/([^/]*)(?:\/(.*))?$/.exec(value);
  if (!m) throw new UsageError(`${what} "${value}" is not an S3 URL: expected s3://bucket/prefix`);
  const bucket = m[1] ?? '';
  if (!BUCKET.test(bucket) || bucket.includes('..')) {
    throw new UsageError(
      `${what} "${value}": "${bucket}" is not an S3 bucket name (3-63 lower-case letters, digits, dots or hyphens)`,
    );
  }
  const raw = (m[2] ?? '').replace(/\/+$/, '');
  if (raw.startsWith('/') || raw.split('/').includes('..') || raw.includes('//')) {
    throw new UsageError(`${what} "${value}": the prefix must not start with "/", contain "//" or ".." segments`);
  }
  return { bucket, prefix: raw === '' ? '' : `${raw}/` };
}

/** `s3://bucket/prefix/` of a location. */
export function formatS3Url(loc: S3Location): string {
  return `s3://${loc.bucket}/${loc.prefix}`;
}

/**
 * Refuses a source and destination that overlap (one inside the other, or equal): copying into
 * the source would feed the copies back as new source objects, a loop under `--watch`.
 * @throws UsageError
 */
export function checkNoOverlap(src: S3Location, dst: S3Location): void {
  if (src.bucket !== dst.bucket) return;
  if (dst.prefix.startsWith(src.prefix) || src.prefix.startsWith(dst.prefix)) {
    throw new UsageError(
      `source ${formatS3Url(src)} and destination ${formatS3Url(dst)} overlap: the destination must not be inside the source (nor the source inside the destination)`,
    );
  }
}

/** True when `key` is below the location's prefix (and in its bucket). */
export function isBelow(loc: S3Location, bucket: string, key: string): boolean {
  return bucket === loc.bucket && key.startsWith(loc.prefix) && key.length > loc.prefix.length;
}

/** The destination key of a source key: its path below the source prefix, below the destination prefix. */
export function destinationKey(src: S3Location, dst: S3Location, srcKey: string): string {
  return dst.prefix + srcKey.slice(src.prefix.length);
}

/**
 * Decodes an object key from an S3 event notification. S3 (and MinIO) encode keys like
 * application/x-www-form-urlencoded: `+` is a space, `%2B` a plus, `%2F` a slash.
 * @throws UsageError for a malformed percent-encoding.
 */
export function decodeEventKey(key: string): string {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    throw new UsageError(`event object key "${key}" is not URL-encoded correctly`);
  }
}

/** An ETag without its surrounding quotes (listings quote it, event notifications do not). */
export function bareEtag(etag: string | undefined): string {
  return (etag ?? '').replace(/^"|"$/g, '');
}
