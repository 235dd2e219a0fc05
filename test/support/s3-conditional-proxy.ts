/**
 * S3 conditional writes for s3rver, which has none: an HTTP proxy in front of it that answers a
 * PUT carrying `If-None-Match: *` with 412 PreconditionFailed (S3's XML error body) when the key
 * already exists, as S3 does for PutObject `IfNoneMatch: '*'`. The existence check (a HEAD on
 * s3rver) and the PUT of one key are serialized, so two racing create-only PUTs of a key give
 * one 200 and one 412, never two 200s. Every other request is forwarded unchanged.
 *
 * It also logs every object PUT it answered (key, status, time), for tests that measure when
 * objects landed or count refused overwrites.
 */
import http from 'node:http';
import { once } from 'node:events';
import { forwardRequest, listenLocal } from './s3-fault-proxy.js';

/** One object PUT the proxy answered. */
export interface PutRecord {
  /** The request path, `/<bucket>/<key>` (path-style). */
  path: string;
  status: number;
  /** Date.now() when the answer was sent. */
  at: number;
  conditional: boolean;
}

export interface S3ConditionalProxy {
  /** Endpoint to give clients instead of s3rver's, e.g. http://127.0.0.1:40123 */
  endpoint: string;
  /** Every object PUT answered so far (multipart part uploads excluded). */
  puts(): PutRecord[];
  close(): Promise<void>;
}

const PRECONDITION_FAILED =
  '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PreconditionFailed</Code>' +
  '<Message>At least one of the pre-conditions you specified did not hold</Message>' +
  '<Condition>If-None-Match</Condition><RequestId>conditional-proxy</RequestId></Error>';

/** HEAD `path` on the upstream (anonymous; s3rver lets unsigned requests through): its status. */
function headStatus(upstream: URL, path: string, agent: http.Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: upstream.hostname, port: upstream.port, method: 'HEAD', path, agent }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 502);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Starts a proxy adding `If-None-Match: *` on PutObject to the S3 server at `target` (http://host:port). */
export async function startS3ConditionalProxy(target: string): Promise<S3ConditionalProxy> {
  const upstream = new URL(target);
  const agent = new http.Agent({ keepAlive: true });
  const log: PutRecord[] = [];
  /** Per key: the tail of the chain of conditional PUTs waiting for it. */
  const keyLocks = new Map<string, Promise<void>>();

  const serialized = async (key: string, work: () => Promise<void>): Promise<void> => {
    const before = keyLocks.get(key) ?? Promise.resolve();
    const mine = before.then(work, work);
    const tail = mine.catch(() => undefined);
    keyLocks.set(key, tail);
    await mine;
    if (keyLocks.get(key) === tail) keyLocks.delete(key);
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const objectPut = req.method === 'PUT' && !url.searchParams.has('partNumber') && url.pathname.split('/').length > 2;
    const conditional = objectPut && req.headers['if-none-match'] === '*';
    if (objectPut) {
      res.on('finish', () => log.push({ path: url.pathname, status: res.statusCode, at: Date.now(), conditional }));
    }
    if (!conditional) return forwardRequest(upstream, req, res, agent);
    void serialized(url.pathname, async () => {
      const status = await headStatus(upstream, url.pathname, agent).catch(() => 502);
      if (status === 200) {
        req.resume();
        res.writeHead(412, { 'content-type': 'application/xml' }).end(PRECONDITION_FAILED);
        return;
      }
      if (status !== 404) {
        req.resume();
        res.writeHead(503, { 'content-type': 'application/xml' }).end('<Error><Code>ServiceUnavailable</Code></Error>');
        return;
      }
      const done = once(res, 'close');
      forwardRequest(upstream, req, res, agent);
      await done;
    });
  });
  const endpoint = await listenLocal(server);
  return {
    endpoint,
    puts: () => [...log],
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
