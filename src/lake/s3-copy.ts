/**
 * Server-side S3 → S3 copies: HeadObject to compare, CopyObject (`MetadataDirective: 'COPY'`)
 * up to 5 GiB, multipart copy (CreateMultipartUpload + UploadPartCopy + CompleteMultipartUpload,
 * AbortMultipartUpload on failure) above. The bytes never pass through this process.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { bareEtag } from './s3-url.js';

/** Largest object CopyObject accepts; larger ones are copied in parts (S3 limit), bytes. */
export const MULTIPART_THRESHOLD_BYTES = 5 * 1024 ** 3;
/** Smallest default part of a multipart copy, bytes (S3: 5 MiB..5 GiB, at most 10,000 parts). */
const MIN_PART_BYTES = 512 * 1024 ** 2;
const MAX_PARTS = 10_000;
/** Parts copied at once in a multipart copy. */
const PART_CONCURRENCY = 4;
/**
 * User metadata a multipart copy adds to the destination: the source ETag, because the ETag of
 * a multipart object (`<md5 of md5s>-<parts>`) differs from the source's.
 */
export const SOURCE_ETAG_METADATA = 'source-etag';

/** What HeadObject says about an object. */
export interface ObjectInfo {
  /** Unquoted. */
  etag: string;
  /** Bytes. */
  size: number;
  contentType: string | undefined;
  contentEncoding: string | undefined;
  contentDisposition: string | undefined;
  contentLanguage: string | undefined;
  cacheControl: string | undefined;
  /** User metadata (`x-amz-meta-*`), names lower-case. */
  metadata: Record<string, string>;
}

/** Where an object is. */
export interface ObjectRef {
  bucket: string;
  key: string;
}

/** Tuning of {@link copyObject}; tests lower the threshold to exercise the multipart path. */
export interface CopyOptions {
  /** Objects larger than this are copied in parts, bytes. @defaultValue 5 GiB */
  multipartThresholdBytes?: number;
  /** Part size of a multipart copy, bytes. @defaultValue max(512 MiB, size / 10,000) */
  partSizeBytes?: number;
}

const statusOf = (err: unknown): number | undefined =>
  (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;

/** True for S3's "no such key" answers (HeadObject 404 `NotFound`, other calls `NoSuchKey`). */
export function isNoSuchKey(err: unknown): boolean {
  const name = (err as { name?: string }).name;
  return name === 'NoSuchKey' || name === 'NotFound' || statusOf(err) === 404;
}

/** True for S3 answers that another attempt will not change (403 denied, 400 bad request). */
export function isPermanentS3Error(err: unknown): boolean {
  const status = statusOf(err);
  return status === 403 || status === 400;
}

/**
 * HeadObject.
 * @returns undefined when the object does not exist (404).
 * @throws the SDK error for anything else (403, 5xx, network).
 */
export async function headObject(client: S3Client, ref: ObjectRef): Promise<ObjectInfo | undefined> {
  try {
    const res = await client.send(new HeadObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
    return {
      etag: bareEtag(res.ETag),
      size: res.ContentLength ?? 0,
      contentType: res.ContentType,
      contentEncoding: res.ContentEncoding,
      contentDisposition: res.ContentDisposition,
      contentLanguage: res.ContentLanguage,
      cacheControl: res.CacheControl,
      metadata: res.Metadata ?? {},
    };
  } catch (err) {
    if (isNoSuchKey(err)) return undefined;
    throw err;
  }
}

/**
 * True when `dst` already holds `src`: same size, and the same ETag (a CopyObject keeps it) or,
 * after a multipart copy, the source ETag recorded in its metadata.
 */
export function sameObject(src: Pick<ObjectInfo, 'etag' | 'size'>, dst: ObjectInfo | undefined): boolean {
  if (!dst || dst.size !== src.size) return false;
  return dst.etag === src.etag || dst.metadata[SOURCE_ETAG_METADATA] === src.etag;
}

/**
 * The `x-amz-copy-source` value. `rfc3986`: every key segment percent-encoded (what S3 and
 * MinIO expect: `+` → `%2B`, space → `%20`). `uri`: `encodeURI`, which leaves `+ , ; = & $ @ :`
 * as they are — servers that decode with `decodeURI` (s3rver) need this for such keys.
 */
export function copySource(ref: ObjectRef, style: 'rfc3986' | 'uri'): string {
  const key = style === 'rfc3986' ? ref.key.split('/').map(encodeURIComponent).join('/') : encodeURI(ref.key);
  return `${ref.bucket}/${key}`;
}

/**
 * Runs `call` with the standard copy source; when the server answers NoSuchKey and the key
 * encodes differently with `encodeURI`, tries that once. The caller has just seen the source
 * with HeadObject, and `x-amz-copy-source-if-match` pins its ETag, so the second form can only
 * copy the same object.
 */
async function withCopySource<T>(src: ObjectRef, call: (source: string) => Promise<T>): Promise<T> {
  const standard = copySource(src, 'rfc3986');
  try {
    return await call(standard);
  } catch (err) {
    const legacy = copySource(src, 'uri');
    if (!isNoSuchKey(err) || legacy === standard) throw err;
    return call(legacy);
  }
}

/**
 * Copies `src` (as described by `info`, from {@link headObject}) to `dst` on the server:
 * CopyObject with `MetadataDirective: 'COPY'` (content type, encoding and user metadata kept)
 * up to the threshold, else a multipart copy that sets the same headers and metadata itself
 * (UploadPartCopy does not carry them) plus {@link SOURCE_ETAG_METADATA}.
 * Every call pins the source with `CopySourceIfMatch: <ETag>`.
 * @returns whether the multipart path was taken, and the destination ETag (unquoted).
 * @throws the SDK error (412 PreconditionFailed when the source changed since HeadObject;
 * a failed multipart copy is aborted first).
 */
export async function copyObject(
  client: S3Client,
  src: ObjectRef,
  info: ObjectInfo,
  dst: ObjectRef,
  options: CopyOptions = {},
): Promise<{ multipart: boolean; etag: string }> {
  const threshold = options.multipartThresholdBytes ?? MULTIPART_THRESHOLD_BYTES;
  const ifMatch = `"${info.etag}"`;
  if (info.size <= threshold) {
    const res = await withCopySource(src, (source) =>
      client.send(
        new CopyObjectCommand({
          Bucket: dst.bucket,
          Key: dst.key,
          CopySource: source,
          CopySourceIfMatch: ifMatch,
          MetadataDirective: 'COPY',
        }),
      ),
    );
    return { multipart: false, etag: bareEtag(res.CopyObjectResult?.ETag) };
  }
  return multipartCopy(client, src, info, dst, ifMatch, options.partSizeBytes);
}

/** The byte ranges (inclusive) of a multipart copy of `size` bytes. */
export function partRanges(size: number, partSize?: number): { start: number; end: number }[] {
  const part = partSize ?? Math.max(MIN_PART_BYTES, Math.ceil(size / MAX_PARTS));
  const ranges: { start: number; end: number }[] = [];
  for (let start = 0; start < size; start += part) ranges.push({ start, end: Math.min(start + part, size) - 1 });
  return ranges;
}

async function multipartCopy(
  client: S3Client,
  src: ObjectRef,
  info: ObjectInfo,
  dst: ObjectRef,
  ifMatch: string,
  partSize: number | undefined,
): Promise<{ multipart: boolean; etag: string }> {
  const created = await client.send(
    new CreateMultipartUploadCommand({
      Bucket: dst.bucket,
      Key: dst.key,
      ContentType: info.contentType,
      ContentEncoding: info.contentEncoding,
      ContentDisposition: info.contentDisposition,
      ContentLanguage: info.contentLanguage,
      CacheControl: info.cacheControl,
      Metadata: { ...info.metadata, [SOURCE_ETAG_METADATA]: info.etag },
    }),
  );
  const uploadId = created.UploadId;
  if (!uploadId) throw new Error(`CreateMultipartUpload for s3://${dst.bucket}/${dst.key} returned no UploadId`);
  try {
    const ranges = partRanges(info.size, partSize);
    const etags: string[] = new Array<string>(ranges.length);
    let next = 0;
    const lane = async (): Promise<void> => {
      for (let i = next++; i < ranges.length; i = next++) {
        const range = ranges[i] as { start: number; end: number };
        const res = await withCopySource(src, (source) =>
          client.send(
            new UploadPartCopyCommand({
              Bucket: dst.bucket,
              Key: dst.key,
              UploadId: uploadId,
              PartNumber: i + 1,
              CopySource: source,
              CopySourceIfMatch: ifMatch,
              CopySourceRange: `bytes=${range.start}-${range.end}`,
            }),
          ),
        );
        const etag = res.CopyPartResult?.ETag;
        if (!etag) throw new Error(`UploadPartCopy part ${i + 1} of s3://${dst.bucket}/${dst.key} returned no ETag`);
        etags[i] = etag;
      }
    };
    await Promise.all(Array.from({ length: Math.min(PART_CONCURRENCY, ranges.length) }, lane));
    const done = await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: dst.bucket,
        Key: dst.key,
        UploadId: uploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
    );
    return { multipart: true, etag: bareEtag(done.ETag) };
  } catch (err) {
    await client
      .send(new AbortMultipartUploadCommand({ Bucket: dst.bucket, Key: dst.key, UploadId: uploadId }))
      .catch(() => undefined);
    throw err;
  }
}
