/**
 * An HTTP proxy in front of s3rver that injects S3 faults: 503 SlowDown and 500 InternalError
 * (with S3's XML error bodies), connection resets, requests never answered, a full outage (every request refused with
 * 503), and slow PUTs (each held `putDelayMs`, at most `putConcurrency` at a time: a throttled
 * S3) for as long as a test wants. Requests that pass are forwarded unchanged.
 */
import http, { type Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { mulberry32 } from '../../src/sandbox/prng.js';

export interface S3FaultOptions {
  /** Fraction (0..1) of requests answered 503 SlowDown. */
  slowDownRate?: number;
  /** Fraction (0..1) of requests answered 500 InternalError. */
  errorRate?: number;
  /** Fraction (0..1) of requests whose connection is reset without an answer. */
  resetRate?: number;
  /**
   * The next this many PUTs (whose path matches `hangPutPattern`) are read and never answered:
   * the connection stays open, silent.
   */
  hangPuts?: number;
  /** Which PUTs `hangPuts` takes, by URL path. @defaultValue any */
  hangPutPattern?: RegExp;
  /** Every request refused with 503 while true. */
  outage?: boolean;
  /** Every request answered 403 AccessDenied while true (credentials without permission). */
  accessDenied?: boolean;
  /** Every PUT is held this long before it is forwarded, ms. @defaultValue 0 */
  putDelayMs?: number;
  /** With putDelayMs: PUTs held or in flight at once; the others queue. @defaultValue unlimited */
  putConcurrency?: number;
  /** Seed of the fault PRNG; given to `configure`, restarts its sequence. @defaultValue 1 */
  seed?: number;
}

export interface S3FaultProxy {
  /** Endpoint to give the fleet instead of s3rver's, e.g. http://127.0.0.1:40123 */
  endpoint: string;
  /** Faults injected so far, by kind. */
  injected(): { slowDown: number; error: number; reset: number; hang: number; outage: number };
  configure(patch: Partial<S3FaultOptions>): void;
  close(): Promise<void>;
}

const xmlError = (code: string, message: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>fault-proxy</RequestId></Error>`;


/**
 * Starts `server` on a free loopback port (keep-alive 5 s, like S3 endpoints); returns its
 * `http://127.0.0.1:<port>` endpoint.
 */
export async function listenLocal(server: Server): Promise<string> {
  server.keepAliveTimeout = 5_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

/**
 * Forwards a request unchanged to `upstream` (http://host:port) and pipes the answer back; a
 * failed upstream answers 502 (or drops the response if its headers were already sent).
 */
export function forwardRequest(
  upstream: URL,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  agent?: http.Agent,
): void {
  const forward = http.request(
    { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers, agent },
    (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    },
  );
  forward.on('error', () => {
    if (!res.headersSent) res.writeHead(502).end();
    else res.destroy();
  });
  req.pipe(forward);
}

/** Starts a fault-injecting proxy to the S3 server at `target` (http://host:port). */
export async function startS3FaultProxy(target: string, options: S3FaultOptions = {}): Promise<S3FaultProxy> {
  const upstream = new URL(target);
  let opts = { ...options };
  let rand = mulberry32(options.seed ?? 1);
  const counts = { slowDown: 0, error: 0, reset: 0, hang: 0, outage: 0 };
  const agent = new http.Agent({ keepAlive: true });
  let putsInFlight = 0;
  const putQueue: (() => void)[] = [];
  /** Holds a PUT `putDelayMs` (queued while `putConcurrency` are in flight), then forwards it. */
  const slowPut = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const start = () => {
      putsInFlight++;
      res.once('close', () => {
        putsInFlight--;
        putQueue.shift()?.();
      });
      setTimeout(() => forwardRequest(upstream, req, res, agent), opts.putDelayMs ?? 0);
    };
    if (putsInFlight < (opts.putConcurrency ?? Infinity)) start();
    else putQueue.push(start);
  };

  const server = http.createServer((req, res) => {
    const fail = (status: number, code: string, message: string) => {
      req.resume();
      res.writeHead(status, { 'content-type': 'application/xml' }).end(xmlError(code, message));
    };
    if (opts.accessDenied) return fail(403, 'AccessDenied', 'Access Denied');
    if (opts.outage) {
      counts.outage++;
      return fail(503, 'ServiceUnavailable', 'Service is unable to handle request.');
    }
    const r = rand();
    const slow = opts.slowDownRate ?? 0;
    const err = opts.errorRate ?? 0;
    const reset = opts.resetRate ?? 0;
    if (r < slow) {
      counts.slowDown++;
      return fail(503, 'SlowDown', 'Please reduce your request rate.');
    }
    if (r < slow + err) {
      counts.error++;
      return fail(500, 'InternalError', 'We encountered an internal error. Please try again.');
    }
    if (r < slow + err + reset) {
      counts.reset++;
      req.resume();
      req.socket.destroy();
      return;
    }
    if (req.method === 'PUT' && (opts.hangPuts ?? 0) > 0 && (opts.hangPutPattern?.test(req.url ?? '') ?? true)) {
      opts.hangPuts = (opts.hangPuts ?? 0) - 1;
      counts.hang++;
      req.resume();
      return;
    }
    if (req.method === 'PUT' && (opts.putDelayMs ?? 0) > 0) return slowPut(req, res);
    forwardRequest(upstream, req, res, agent);
  });
  const endpoint = await listenLocal(server);
  return {
    endpoint,
    injected: () => ({ ...counts }),
    configure(patch) {
      opts = { ...opts, ...patch };
      if (patch.seed !== undefined) rand = mulberry32(patch.seed);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
