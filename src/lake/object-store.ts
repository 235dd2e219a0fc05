/**
 * What the lake is to the rest of the fleet: a place that stores objects by key, with the same
 * operations on S3 (`store.ts`) and on a local directory (`local-store.ts`).
 */
import { Transform, type Readable } from 'node:stream';

/** A place that stores objects by key. */
export interface ObjectStore {
  /** Human-readable location, e.g. `s3://bucket` or `/abs/lake`. */
  readonly location: string;
  /** Checks the lake can be written; throws LakeError naming the bucket or directory. */
  check(): Promise<void>;
  /** Stores `body` at `key` (S3 PutObject), replacing what is there (manifests). */
  put(key: string, body: Uint8Array | string, contentType: string): Promise<void>;
  /**
   * Stores `body` at `key` only if no object is there (create-only, DESIGN guarantee 8): S3
   * PutObject with `If-None-Match: *` (S3 answers 412 PreconditionFailed for an existing key;
   * a 409 ConditionalRequestConflict, a concurrent conditional write of the key, is retried);
   * locally a temporary file hard-linked to the key's name, which fails on an existing name.
   * An existing object is never replaced, whatever its content.
   * @returns 'created' when this call stored `body`; 'exists' when an object was already at `key`.
   * @throws S3 errors other than 412 (409 after a few tries); file system errors.
   */
  putIfAbsent(key: string, body: Uint8Array | string, contentType: string): Promise<'created' | 'exists'>;
  /** Reads an object (S3 GetObject). */
  get(key: string): Promise<Buffer>;
  /**
   * Reads an object as a byte stream (S3 GetObject body; a file stream locally), for objects
   * too large to hold at once. Resolves once the object was found: a missing key rejects here
   * (S3 `NoSuchKey`, local `ENOENT`), later read failures arrive as the stream's `error`.
   */
  getStream(key: string): Promise<Readable>;
  /** Lists keys under a prefix (S3 ListObjectsV2, paginated). */
  list(prefix: string): Promise<string[]>;
  /**
   * What the store knows about an object (S3 HeadObject with `ChecksumMode: ENABLED`).
   * @returns undefined when there is no object at `key`.
   */
  head(key: string): Promise<ObjectHead | undefined>;
  /**
   * Stores a byte stream at `key` without holding it in memory: S3 multipart upload
   * (lib-storage `Upload`: CreateMultipartUpload, UploadPart × n, CompleteMultipartUpload; one
   * PutObject when the stream fits one part) with a SHA-256 checksum per part, which S3 verifies
   * on receipt; locally a temporary file renamed into place. An upload that fails is aborted
   * (AbortMultipartUpload) and leaves nothing at `key`.
   */
  putStream(key: string, body: Readable, options: PutStreamOptions): Promise<void>;
}

/** An object's size, user metadata and checksum, as HeadObject reports them. */
export interface ObjectHead {
  /** Bytes. */
  size: number;
  /** User metadata (`x-amz-meta-*`, names lower-case without the prefix). */
  metadata: Record<string, string>;
  /**
   * S3's SHA-256 checksum (base64), for a multipart object the composite `<base64>-<parts>`;
   * undefined when the store keeps none (local lake, s3rver, objects stored without one).
   */
  checksumSha256: string | undefined;
  lastModified: Date | undefined;
}

/** Options of {@link ObjectStore.putStream}. */
export interface PutStreamOptions {
  contentType: string;
  /** User metadata (`x-amz-meta-<name>`); names lower-case, values ASCII. */
  metadata: Record<string, string>;
  /** Bytes per multipart part (≥ 5 MiB, S3's minimum). */
  partSize: number;
  /** Parts uploaded at once; memory held is about `partSize × queueSize`. @defaultValue 4 */
  queueSize?: number;
  /** Called with the bytes consumed from `body` so far. */
  onProgress?: (bytes: number) => void;
}

/** A pass-through stream that reports the bytes that went through it. */
export function byteCounter(onProgress: ((bytes: number) => void) | undefined): Transform {
  let bytes = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      onProgress?.(bytes);
      callback(null, chunk);
    },
  });
}
