/**
 * One streaming pass over a local file: its size, its SHA-256 (hex), the SHA-256 checksum S3
 * will report for it once uploaded in parts of a given size (`<base64>-<parts>`, the composite
 * of the parts' SHA-256 digests; the plain base64 digest for a single part) and, for delimited
 * text, its rows, each checked against the header's field count. Memory stays constant.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { csvRecords, type CsvDialect } from './csv.js';

/** What {@link scanFile} found. */
export interface FileScan {
  /** Bytes read. */
  bytes: number;
  /** SHA-256 of the whole file, hex. */
  sha256: string;
  /** The S3 `ChecksumSHA256` of the object when uploaded in `partSize` parts. */
  s3Checksum: string;
  /** Data rows (header excluded) when a dialect was given. */
  rows: number | undefined;
}

/** Options of {@link scanFile}. */
export interface ScanOptions {
  /** Multipart part size the upload will use, bytes. */
  partSize: number;
  /** Parse as delimited text, counting and checking rows. */
  csv?: CsvDialect;
  /** Called with the bytes read so far. */
  onProgress?: (bytes: number) => void;
}

/**
 * Reads `file` once.
 * @throws the read error (ENOENT, EACCES) or csv-parse's CsvError for a malformed row.
 */
export async function scanFile(file: string, options: ScanOptions): Promise<FileScan> {
  const whole = createHash('sha256');
  const partDigests: Buffer[] = [];
  let part: Hash = createHash('sha256');
  let inPart = 0;
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      whole.update(chunk);
      for (let offset = 0; offset < chunk.length; ) {
        const take = Math.min(options.partSize - inPart, chunk.length - offset);
        part.update(chunk.subarray(offset, offset + take));
        inPart += take;
        offset += take;
        if (inPart === options.partSize) {
          partDigests.push(part.digest());
          part = createHash('sha256');
          inPart = 0;
        }
      }
      bytes += chunk.length;
      options.onProgress?.(bytes);
      callback(null, chunk);
    },
  });
  let records = 0;
  const sink = new Writable({
    objectMode: options.csv !== undefined,
    write(_item, _encoding, callback) {
      records++;
      callback();
    },
  });
  const input = createReadStream(file, { highWaterMark: 64 * 1024 });
  if (options.csv) await pipeline(input, tap, csvRecords(options.csv), sink);
  else await pipeline(input, tap, sink);
  if (inPart > 0 || partDigests.length === 0) partDigests.push(part.digest());
  const digest = whole.digest();
  const s3Checksum =
    partDigests.length === 1
      ? digest.toString('base64')
      : `${createHash('sha256').update(Buffer.concat(partDigests)).digest('base64')}-${partDigests.length}`;
  return {
    bytes,
    sha256: digest.toString('hex'),
    s3Checksum,
    rows: options.csv ? Math.max(records - 1, 0) : undefined,
  };
}
