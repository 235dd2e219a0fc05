/**
 * Where objects land: an S3 bucket (S3 API PutObject / HeadBucket / GetObject /
 * ListObjectsV2) or, when S3_BUCKET is unset, a local directory with the same key layout.
 */
import { mkdir, readFile, rename, writeFile, access, readdir } from 'node:fs/promises';
import { constants } from 'node:fs';
import path from 'node:path';
import {
  S3Client,
  PutObjectCommand,
  HeadBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
} from '@aws-sdk/client-s3';
import type { Config } from '../config.js';
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
  /** Lists keys under a prefix (S3 ListObjectsV2, paginated). */
  list(prefix: string): Promise<string[]>;
}

/** Opens the configured store. */
export function openStore(config: Config): ObjectStore {
  const lake = config.lake;
  if (lake.kind === 'local') return new LocalStore(lake.dir);
  const client = new S3Client({
    region: lake.region,
    ...(lake.endpoint ? { endpoint: lake.endpoint } : {}),
    forcePathStyle: lake.forcePathStyle,
    ...(lake.credentials ? { credentials: lake.credentials } : {}),
    maxAttempts: 5,
  });
  return new S3Store(client, lake.bucket);
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
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      const reason =
        status === 404
          ? 'does not exist'
          : status === 403
            ? 'denies access to these credentials'
            : `cannot be reached (${(err as Error).name})`;
      throw new LakeError(`S3 bucket "${this.bucket}" (S3_BUCKET) ${reason}`, { cause: err });
    }
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
