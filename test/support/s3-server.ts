/**
 * Starts s3rver, a real S3-compatible server over HTTP, on a free loopback port with the given
 * buckets, storing in a fresh temporary directory, behind the conditional-write proxy
 * (`s3-conditional-proxy.ts`): s3rver ignores `If-None-Match: *` on PutObject, S3 answers it
 * with 412 when the key exists, and the fleet's data objects depend on that. Clients must send
 * plain bodies (AWS_REQUEST_CHECKSUM_CALCULATION=WHEN_REQUIRED, set in vitest.config.ts and
 * {@link s3Env}).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { startS3ConditionalProxy, type PutRecord } from './s3-conditional-proxy.js';

export interface S3Server {
  /** `http://127.0.0.1:<port>` of the conditional-write proxy in front of s3rver. */
  endpoint: string;
  /** s3rver itself, without conditional writes. */
  s3rverEndpoint: string;
  /** Every object PUT answered so far (path `/<bucket>/<key>`, status, time). */
  puts(): PutRecord[];
  close(): Promise<void>;
}

/** Starts s3rver with `buckets` created, behind the conditional-write proxy. */
export async function startS3Server(buckets: string[]): Promise<S3Server> {
  const directory = mkdtempSync(join(tmpdir(), 'tmdb-fleet-s3-'));
  const server = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory,
    configureBuckets: buckets.map((name) => ({ name, configs: [] })),
  });
  const address = (await server.run()) as unknown as { port: number };
  const s3rverEndpoint = `http://127.0.0.1:${address.port}`;
  const proxy = await startS3ConditionalProxy(s3rverEndpoint);
  return {
    endpoint: proxy.endpoint,
    s3rverEndpoint,
    puts: () => proxy.puts(),
    async close() {
      await proxy.close();
      await server.close();
    },
  };
}

/** The environment a fleet process needs to write to this s3rver bucket. */
export function s3Env(server: S3Server, bucket: string): Record<string, string> {
  return {
    S3_BUCKET: bucket,
    AWS_ENDPOINT_URL_S3: server.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    S3_FORCE_PATH_STYLE: 'true',
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
  };
}
