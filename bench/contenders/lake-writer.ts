/**
 * The S3 writer every script contender shares: details documents in gzip JSON Lines objects of
 * 100 records under the fleet's key layout (`<prefix>/movie/YYYY/MM/DD/<runId>-<seq>.jsonl.gz`),
 * each sent with one PutObject of the AWS SDK the project uses, then the run's manifest
 * (`<prefix>/_runs/<runId>/manifest.json`) listing every object. Objects are either uploaded one
 * by one as they fill (the caller waits: the classic script) or sent while the caller goes on
 * (the concurrent clients), all awaited before the manifest.
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { encodeJsonLines } from '../../src/lake/encode.js';
import { dataKey, dataKeyBase, manifestKey } from '../../src/lake/keys.js';
import { newRunId } from '../../src/runs/run-id.js';

/** Records per object, as the fleet's BATCH_MAX_RECORDS default. */
export const RECORDS_PER_OBJECT = 100;

/** Counts a contender reports in its manifest and on its summary line. */
export interface RunCounts {
  discovered: number;
  fetched: number;
  notFound: number;
  failed: number;
}

/** Options of {@link LakeWriter}. */
export interface LakeWriterOptions {
  /** `await`s each PutObject before `add` returns (true), or lets uploads run behind (false). */
  waitForEachPut: boolean;
  /** Environment with S3_BUCKET, S3_PREFIX (default raw/tmdb), AWS_ENDPOINT_URL_S3, S3_FORCE_PATH_STYLE. */
  env: NodeJS.ProcessEnv;
}

/** Batches documents into gzip JSON Lines objects and writes them and the manifest to S3. */
export class LakeWriter {
  readonly runId = newRunId('movie');
  private readonly createdAt = new Date();
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly base: string;
  private readonly waitForEachPut: boolean;
  private lines: string[] = [];
  private seq = 0;
  private readonly objects: { key: string; records: number }[] = [];
  private readonly pending = new Set<Promise<void>>();
  private failure: unknown;

  constructor(options: LakeWriterOptions) {
    const env = options.env;
    this.client = new S3Client({
      region: env.AWS_REGION ?? 'us-east-1',
      ...(env.AWS_ENDPOINT_URL_S3 ? { endpoint: env.AWS_ENDPOINT_URL_S3 } : {}),
      forcePathStyle: env.S3_FORCE_PATH_STYLE === 'true',
      maxAttempts: 5,
    });
    if (!env.S3_BUCKET) throw new Error('S3_BUCKET is not set');
    this.bucket = env.S3_BUCKET;
    this.prefix = env.S3_PREFIX ?? 'raw/tmdb';
    this.base = dataKeyBase(this.prefix, 'movie', this.runId, this.createdAt);
    this.waitForEachPut = options.waitForEachPut;
  }

  /** Adds one details document; a full batch is written (and waited for when waitForEachPut). */
  async add(document: unknown): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    this.lines.push(JSON.stringify(document));
    if (this.lines.length >= RECORDS_PER_OBJECT) await this.writeBatch();
  }

  /** Writes the last partial batch, waits for every upload, then writes the manifest. */
  async finish(counts: RunCounts): Promise<{ records: number; objects: number }> {
    if (this.lines.length > 0) await this.writeBatch();
    await Promise.all(this.pending);
    if (this.failure !== undefined) throw this.failure;
    const records = this.objects.reduce((s, o) => s + o.records, 0);
    const manifest = {
      runId: this.runId,
      kind: 'movie',
      state: 'completed',
      createdAt: this.createdAt.toISOString(),
      finishedAt: new Date().toISOString(),
      summary: { ...counts, records },
      uncoveredWindows: [],
      objects: this.objects.slice().sort((a, b) => a.key.localeCompare(b.key)),
    };
    await this.put(manifestKey(this.prefix, this.runId), JSON.stringify(manifest, null, 2), 'application/json');
    this.client.destroy();
    return { records, objects: this.objects.length };
  }

  private async writeBatch(): Promise<void> {
    const lines = this.lines;
    this.lines = [];
    const key = dataKey(this.base, this.seq++);
    const upload = this.put(key, encodeJsonLines(`${lines.join('\n')}\n`), 'application/gzip').then(() => {
      this.objects.push({ key, records: lines.length });
    });
    if (this.waitForEachPut) return upload;
    const tracked = upload.catch((err: unknown) => {
      this.failure ??= err;
    });
    this.pending.add(tracked);
    void tracked.finally(() => this.pending.delete(tracked));
  }

  private async put(key: string, body: Uint8Array | string, contentType: string): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }));
  }
}
