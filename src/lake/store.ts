/**
 * Where objects land: an S3 bucket (S3 API PutObject / HeadBucket / GetObject /
 * ListObjectsV2) or, when S3_BUCKET is unset, a local directory with the same key layout.
 */
import { mkdir, readFile, rename, writeFile, access, readdir, open, stat, rm } from 'node:fs/promises';
import { constants, createWriteStream } from 'node:fs';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  S3Client,
  PutObjectCommand,
  HeadBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Config, S3Connection } from '../config.js';
import { LakeError } from '../errors.js';

/** A place that stores objects by key. */
export interface ObjectStore {
  /** Human-readable location, e.g. `s3://bucket` or `/abs/lake`. */
  readonly location: string;
  /** Checks the lake can be written; throws LakeError naming the bucket or directory. */
  check(): Promise<void>;
  /** Stores `body` at `key` (S3 PutObject); overwriting with identical bytes is harmless. */
  put(key: string, body: Uint8Array | string, contentType: string): Promise<void>;
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
function byteCounter(onProgress: ((bytes: number) => void) | undefined): Transform {
  let bytes = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      onProgress?.(bytes);
      callback(null, chunk);
    },
  });
}

/** Opens the configured store. */
export function openStore(config: Config): ObjectStore {
  const lake = config.lake;
  if (lake.kind === 'local') return new LocalStore(lake.dir);
  return new S3Store(createS3Client(lake), lake.bucket);
}

/**
 * An S3 client for an endpoint (AWS_ENDPOINT_URL_S3, or AWS), region, addressing style and
 * credentials (unset: the SDK's default provider chain); the SDK retries up to 5 attempts.
 * Used by the lake's {@link S3Store} and by `sync` for its own buckets.
 */
export function createS3Client(connection: S3Connection): S3Client {
  return new S3Client({
    region: connection.region,
    ...(connection.endpoint ? { endpoint: connection.endpoint } : {}),
    forcePathStyle: connection.forcePathStyle,
    ...(connection.credentials ? { credentials: connection.credentials } : {}),
    maxAttempts: 5,
  });
}

/** S3 (or MinIO, or any S3-compatible store). */
export class S3Store implements ObjectStore {
  readonly location: string;
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {
    this.location = `s3://${bucket}`;
  }

  async check(): Promise<void> {
    await checkBucket(this.client, this.bucket, `S3 bucket "${this.bucket}" (S3_BUCKET)`);
  }

  async put(key: string, body: Uint8Array | string, contentType: string): Promise<void> {
    await this.client.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }),
    );
  }

  async get(key: string): Promise<Buffer> {
    const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    if (!res.Body) throw new LakeError(`s3://${this.bucket}/${key} has no body`);
    return Buffer.from(await res.Body.transformToByteArray());
  }

  async getStream(key: string): Promise<Readable> {
    const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    // In Node the SDK's GetObject body is an http.IncomingMessage (a Readable).
    if (!(res.Body instanceof Readable)) throw new LakeError(`s3://${this.bucket}/${key} has no readable body`);
    return res.Body;
  }

  async head(key: string): Promise<ObjectHead | undefined> {
    try {
      const res = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: key, ChecksumMode: 'ENABLED' }),
      );
      return {
        size: res.ContentLength ?? 0,
        metadata: res.Metadata ?? {},
        checksumSha256: res.ChecksumSHA256,
        lastModified: res.LastModified,
      };
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404) return undefined;
      throw err;
    }
  }

  async putStream(key: string, body: Readable, options: PutStreamOptions): Promise<void> {
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.bucket,
        Key: key,
        Body: body.pipe(byteCounter(options.onProgress)),
        ContentType: options.contentType,
        Metadata: options.metadata,
        ChecksumAlgorithm: 'SHA256',
      },
      partSize: options.partSize,
      queueSize: options.queueSize ?? 4,
      leavePartsOnError: false,
    });
    const failed = new Promise<never>((_, reject) => body.once('error', reject));
    failed.catch(() => undefined);
    try {
      await Promise.race([upload.done(), failed]);
    } catch (err) {
      await upload.abort().catch(() => undefined);
      throw err;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const res = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const o of res.Contents ?? []) if (o.Key) keys.push(o.Key);
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
    return keys.sort();
  }
}

/** Directory under LAKE_DIR holding the user metadata of local objects. */
const LOCAL_META_DIR = '.meta';

/** A local directory laid out like the bucket; writes are atomic (temp file + rename). */
export class LocalStore implements ObjectStore {
  readonly location: string;
  private readonly root: string;
  constructor(dir: string) {
    this.root = path.resolve(dir);
    this.location = this.root;
  }

  async check(): Promise<void> {
    try {
      await mkdir(this.root, { recursive: true });
      await access(this.root, constants.W_OK);
    } catch (err) {
      throw new LakeError(`local lake directory ${this.root} (LAKE_DIR) is not writable`, { cause: err });
    }
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    const file = this.resolve(key);
    await mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, body);
    await rename(tmp, file);
  }

  async get(key: string): Promise<Buffer> {
    return readFile(this.resolve(key));
  }

  async getStream(key: string): Promise<Readable> {
    // Opening first makes a missing file reject here (ENOENT) rather than on the stream.
    const handle = await open(this.resolve(key), 'r');
    return handle.createReadStream();
  }

  /** Metadata lives beside the lake, in `<LAKE_DIR>/.meta/<key>.json` (not listed). */
  async head(key: string): Promise<ObjectHead | undefined> {
    let info;
    try {
      info = await stat(this.resolve(key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    let metadata: Record<string, string> = {};
    try {
      metadata = JSON.parse(await readFile(this.metaFile(key), 'utf8')) as Record<string, string>;
    } catch {
      /* an object stored by put() has no metadata */
    }
    return { size: info.size, metadata, checksumSha256: undefined, lastModified: info.mtime };
  }

  async putStream(key: string, body: Readable, options: PutStreamOptions): Promise<void> {
    const file = this.resolve(key);
    const meta = this.metaFile(key);
    await mkdir(path.dirname(file), { recursive: true });
    await mkdir(path.dirname(meta), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      await pipeline(body, byteCounter(options.onProgress), createWriteStream(tmp));
      await writeFile(meta, JSON.stringify(options.metadata));
      await rename(tmp, file);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  private metaFile(key: string): string {
    return path.join(this.root, LOCAL_META_DIR, `${path.relative(this.root, this.resolve(key))}.json`);
  }

  async list(prefix: string): Promise<string[]> {
    const out: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        const full = path.join(dir, e.name);
        if (dir === this.root && e.name === LOCAL_META_DIR) continue;
        if (e.isDirectory()) await walk(full);
        else if (!e.name.endsWith('.tmp')) {
          const key = path.relative(this.root, full).split(path.sep).join('/');
          if (key.startsWith(prefix)) out.push(key);
        }
      }
    };
    await walk(this.root);
    return out.sort();
  }

  private resolve(key: string): string {
    const file = path.resolve(this.root, key);
    if (!file.startsWith(this.root + path.sep)) throw new LakeError(`object key "${key}" escapes ${this.root}`);
    return file;
  }
}

/**
 * S3 HeadBucket: checks a bucket exists and these credentials may use it.
 * @param what - how the message names the bucket, e.g. `S3 bucket "lake" (S3_BUCKET)`.
 * @throws LakeError "<what> does not exist" (404), "denies access to these credentials" (403),
 * or "cannot be reached (<error>)".
 */
export async function checkBucket(client: S3Client, bucket: string, what: string): Promise<void> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch (err) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    const reason =
      status === 404
        ? 'does not exist'
        : status === 403
          ? 'denies access to these credentials'
          : `cannot be reached (${(err as Error).name})`;
    throw new LakeError(`${what} ${reason}`, { cause: err });
  }
}
