/**
 * Where objects land: an S3 bucket (S3 API PutObject / HeadBucket / GetObject /
 * ListObjectsV2) or, when S3_BUCKET is unset, a local directory with the same key layout.
 */
import { Readable } from 'node:stream';
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
import { ConfigError, LakeError } from '../errors.js';
import { LocalStore } from './local-store.js';
import { byteCounter, type ObjectHead, type ObjectStore, type PutStreamOptions } from './object-store.js';

export type { ObjectHead, ObjectStore, PutStreamOptions } from './object-store.js';

/** Tries of a create-only PUT that S3 answers 409 ConditionalRequestConflict. */
export const CONFLICT_RETRIES = 5;

/** The HTTP status of an AWS SDK error, if it has one. */
function httpStatus(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

/** Opens the configured store. */
export function openStore(config: Config): ObjectStore {
  const lake = config.lake;
  if (lake.kind === 'local') return new LocalStore(lake.dir);
  return new S3Store(createS3Client(lake), lake.bucket);
}

/** How long connecting to the S3 endpoint may take before the attempt is retried, ms. */
export const S3_CONNECT_TIMEOUT_MS = 10_000;

/**
 * An S3 client for an endpoint (AWS_ENDPOINT_URL_S3, or AWS), region, addressing style and
 * credentials (unset: the SDK's default provider chain); the SDK retries up to 5 attempts. A
 * request whose connection stays silent for `timeoutMs` (S3_TIMEOUT_MS) is abandoned and retried:
 * without it an answer that never comes would hold its job, and a reconcile lease its live
 * process renews, for ever. S3 keeps a long CopyObject's connection busy with whitespace, so
 * only a dead connection is cut.
 * Used by the lake's {@link S3Store} and by `sync` for its own buckets.
 */
export function createS3Client(connection: S3Connection): S3Client {
  return new S3Client({
    region: connection.region,
    ...(connection.endpoint ? { endpoint: connection.endpoint } : {}),
    forcePathStyle: connection.forcePathStyle,
    ...(connection.credentials ? { credentials: connection.credentials } : {}),
    maxAttempts: 5,
    requestHandler: { socketTimeout: connection.timeoutMs, connectionTimeout: S3_CONNECT_TIMEOUT_MS },
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

  async putIfAbsent(key: string, body: Uint8Array | string, contentType: string): Promise<'created' | 'exists'> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.send(
          new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType, IfNoneMatch: '*' }),
        );
        return 'created';
      } catch (err) {
        const status = httpStatus(err);
        if (status === 412) return 'exists';
        if (status !== 409 || attempt >= CONFLICT_RETRIES) throw err;
        await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
      }
    }
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
      if (httpStatus(err) === 404) return undefined;
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
    const e = err as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    if (e.name === 'CredentialsProviderError') {
      throw new ConfigError(
        'invalid configuration:\n  AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: set both (or give the process an AWS profile or instance role): the AWS SDK found no S3 credentials',
      );
    }
    const status = e.$metadata?.httpStatusCode;
    let reason = `cannot be reached at ${await endpointOf(client)}: ${e.code ?? e.name ?? 'Error'}${e.message ? ` (${e.message})` : ''}; check AWS_ENDPOINT_URL_S3 and that the S3 server is up`;
    if (status === 404) reason = 'does not exist';
    else if (status === 403) reason = 'denies access to these credentials (AWS_ACCESS_KEY_ID)';
    else if (status !== undefined) reason = `answered HTTP ${status} at ${await endpointOf(client)} (${e.name ?? 'Error'})`;
    throw new LakeError(`${what} ${reason}`, { cause: err });
  }
}

/**
 * True for a failed lake check that another attempt may change: S3 answered 5xx, or did not
 * answer at all (refused, reset, timed out). A missing bucket, denied access or missing
 * credentials are not, nor is a local directory that cannot be written: waiting will not fix them.
 */
export function isTransientLakeError(err: unknown): boolean {
  if (!(err instanceof LakeError)) return false;
  // The SDK's retry layer puts $metadata on every error it gives up on, answered or not.
  const metadata = (err.cause as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata;
  if (!metadata) return false;
  return metadata.httpStatusCode === undefined || metadata.httpStatusCode >= 500;
}

/** The endpoint a client talks to (AWS_ENDPOINT_URL_S3, or AWS's for the region), for messages. */
async function endpointOf(client: S3Client): Promise<string> {
  const endpoint = client.config.endpoint ? await client.config.endpoint() : undefined;
  if (endpoint) return `${endpoint.protocol}//${endpoint.hostname}${endpoint.port ? `:${endpoint.port}` : ''}${endpoint.path}`;
  return `AWS S3 in ${await client.config.region()}`;
}
