/**
 * JSON Lines + gzip encoding of data objects. Deterministic: the same lines always give the
 * same bytes, so a re-delivered write job PUTs an identical object.
 */
import { gzipSync, gunzipSync } from 'node:zlib';

/** Gzips a JSON Lines body (already `\n`-terminated lines). */
export function encodeJsonLines(body: string): Buffer {
  return gzipSync(Buffer.from(body, 'utf8'), { level: 6 });
}

/** Decodes a gzipped JSON Lines object into its parsed records. */
export function decodeJsonLines(bytes: Uint8Array): unknown[] {
  return gunzipSync(bytes)
    .toString('utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as unknown);
}
