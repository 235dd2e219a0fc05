/**
 * An HTTP proxy in front of s3rver that adds what s3rver lacks for multipart copies:
 * UploadPartCopy (`PUT /bucket/key?partNumber=N&uploadId=U` with `x-amz-copy-source` and
 * `x-amz-copy-source-range`). The proxy reads that range of the source from s3rver (GetObject
 * with `Range`), uploads it as part N (UploadPart) and answers S3's `CopyPartResult` XML with
 * the part's ETag. Every other request passes unchanged, so CreateMultipartUpload and
 * CompleteMultipartUpload are s3rver's own.
 */
import http from 'node:http';
import { forwardRequest, listenLocal } from './s3-fault-proxy.js';

export interface S3PartCopyProxy {
  /** Endpoint to give the client instead of s3rver's. */
  endpoint: string;
  /** UploadPartCopy requests served, with their ranges. */
  partCopies: { partNumber: number; range: string }[];
  close(): Promise<void>;
}

function request(
  upstream: URL,
  options: { method: string; path: string; headers?: http.OutgoingHttpHeaders },
  body?: Buffer,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: upstream.hostname, port: upstream.port, method: options.method, path: options.path, headers: options.headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Starts the proxy to the s3rver at `target` (http://host:port). */
export async function startS3PartCopyProxy(target: string): Promise<S3PartCopyProxy> {
  const upstream = new URL(target);
  const partCopies: S3PartCopyProxy['partCopies'] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const source = req.headers['x-amz-copy-source'];
    if (req.method === 'PUT' && typeof source === 'string' && url.searchParams.has('uploadId')) {
      req.resume();
      const range = String(req.headers['x-amz-copy-source-range'] ?? '');
      const partNumber = Number(url.searchParams.get('partNumber'));
      partCopies.push({ partNumber, range });
      // The copy source is percent-encoded per segment; re-encode it for a plain GET path.
      const decoded = decodeURIComponent(source.replace(/^\//, ''));
      const path = `/${decoded.split('/').map(encodeURIComponent).join('/')}`;
      void (async () => {
        const got = await request(upstream, { method: 'GET', path, headers: range ? { range } : {} });
        if (got.status !== 200 && got.status !== 206) {
          res.writeHead(got.status, got.headers).end(got.body);
          return;
        }
        const put = await request(
          upstream,
          { method: 'PUT', path: url.pathname + url.search, headers: { 'content-length': got.body.length } },
          got.body,
        );
        if (put.status !== 200) {
          res.writeHead(put.status, put.headers).end(put.body);
          return;
        }
        const etag = String(put.headers.etag ?? '');
        res
          .writeHead(200, { 'content-type': 'application/xml' })
          .end(
            `<?xml version="1.0" encoding="UTF-8"?>\n<CopyPartResult><ETag>${etag.replace(/"/g, '&quot;')}</ETag><LastModified>${new Date().toISOString()}</LastModified></CopyPartResult>`,
          );
      })().catch(() => {
        if (!res.headersSent) res.writeHead(502).end();
      });
      return;
    }
    forwardRequest(upstream, req, res);
  });
  const endpoint = await listenLocal(server);
  return {
    endpoint,
    partCopies,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
