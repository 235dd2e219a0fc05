/**
 * The fleet's dashboard: one Express app serving Bull Board over every queue at `/`, a Redis
 * health check at `/healthz` and Prometheus metrics at `/metrics`. Everything except `/healthz`
 * sits behind HTTP basic auth when credentials are configured; a non-loopback bind without
 * credentials is refused.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { ConfigError } from '../errors.js';
import type { Fleet } from '../fleet.js';
import { QUEUE_NAMES } from '../queues.js';
import { createS3EventWebhook } from './webhook.js';

/** How and where the dashboard listens. */
export interface DashboardOptions {
  /** Bind address; anything but 127.0.0.1, ::1 or localhost requires `auth`. */
  host: string;
  /** TCP port; 0 picks a free one (read it back from {@link Dashboard.url}). */
  port: number;
  /** HTTP basic auth credentials; undefined turns auth off (loopback binds only). */
  auth: { user: string; password: string } | undefined;
  /** Bull Board without retry, remove, promote or clean actions. @defaultValue false */
  readOnly?: boolean;
  /** Shared secret of `POST /webhooks/s3` (`sync --watch` events); undefined: no webhook. */
  webhookSecret?: string | undefined;
}

/** A running dashboard. */
export interface Dashboard {
  /** Base URL actually listened on, e.g. `http://127.0.0.1:3000`. */
  url: string;
  /** Stops accepting requests and closes open connections; the fleet stays open. */
  close(): Promise<void>;
}

/** Job states exported by the `tmdb_fleet_queue_jobs` gauge. */
const JOB_STATES = ['waiting', 'active', 'delayed', 'failed', 'completed'] as const;

const REALM = 'tmdb-fleet';
const HEALTH_TIMEOUT_MS = 1_000;
const METRICS_TIMEOUT_MS = 2_000;

/** True for addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return h === 'localhost' || h === '::1' || h === '127.0.0.1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/** Resolves with `promise`, or rejects after `ms` (the late outcome is swallowed). */
function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  promise.catch(() => undefined);
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Constant-time string comparison (both sides hashed first so lengths always match). */
function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a, 'utf8').digest();
  const hb = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(ha, hb);
}

/** Express middleware enforcing HTTP basic auth (RFC 7617) with the given credentials. */
function basicAuth(auth: { user: string; password: string }) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const header = req.headers.authorization ?? '';
    const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    if (match?.[1]) {
      const decoded = Buffer.from(match[1], 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon >= 0) {
        // Evaluate both comparisons so timing does not reveal which part was wrong.
        const userOk = safeEqual(decoded.slice(0, colon), auth.user);
        const passwordOk = safeEqual(decoded.slice(colon + 1), auth.password);
        if (userOk && passwordOk) {
          next();
          return;
        }
      }
    }
    res
      .status(401)
      .set('WWW-Authenticate', `Basic realm="${REALM}", charset="UTF-8"`)
      .type('text/plain')
      .send('authentication required\n');
  };
}

/** A Prometheus registry with default process metrics and the queue gauge, read on scrape. */
function createMetrics(fleet: Fleet): Registry {
  const register = new Registry();
  collectDefaultMetrics({ register });
  new Gauge({
    name: 'tmdb_fleet_queue_jobs',
    help: 'Jobs in each fleet queue by state, read from Redis at scrape time.',
    labelNames: ['queue', 'state'] as const,
    registers: [register],
    async collect() {
      this.reset();
      try {
        const counts = await withTimeout(
          Promise.all(QUEUE_NAMES.map((name) => fleet.queues[name].getJobCounts(...JOB_STATES))),
          METRICS_TIMEOUT_MS,
          'queue job counts',
        );
        QUEUE_NAMES.forEach((queue, i) => {
          for (const state of JOB_STATES) this.set({ queue, state }, counts[i]?.[state] ?? 0);
        });
      } catch (err) {
        fleet.log.warn(
          { code: 'DASHBOARD_METRICS', err: err instanceof Error ? err.message : String(err) },
          'could not read queue job counts',
        );
      }
    },
  });
  return register;
}

/** The Bull Board router over every queue of the fleet, mounted at base path `/`. */
function createBoardRouter(fleet: Fleet, readOnlyMode: boolean): Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath('/');
  createBullBoard({
    queues: QUEUE_NAMES.map((name) => new BullMQAdapter(fleet.queues[name], { readOnlyMode })),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'tmdb-fleet' } },
  });
  return serverAdapter.getRouter() as Router;
}

/**
 * Starts Express + Bull Board over every queue of the fleet, /healthz and /metrics.
 *
 * Routes:
 * - `GET /healthz` (never behind auth): 200 `{"status":"ok","redis":"up"}` when Redis answers
 *   PING within 1 s, else 503 `{"status":"degraded","redis":"down"}`;
 * - `GET /metrics`: Prometheus text (own registry): `tmdb_fleet_queue_jobs{queue,state}` for
 *   waiting/active/delayed/failed/completed, plus default process metrics;
 * - `POST /webhooks/s3` (own bearer secret, not basic auth; only with `webhookSecret`): S3 event
 *   notifications for `sync --watch` (see webhook.ts);
 * - `/`: Bull Board.
 *
 * @param fleet - an open fleet; its queues and Redis connection are used, never closed.
 * @param options - bind address, port (0 = any free port) and optional basic auth.
 * @returns the listening dashboard; `close()` stops the HTTP server only.
 * @throws ConfigError when `host` is not loopback and `auth` is undefined (set DASHBOARD_USER and
 *   DASHBOARD_PASSWORD, or bind DASHBOARD_HOST to 127.0.0.1).
 * @throws the listen error (e.g. EADDRINUSE) when the port cannot be bound.
 */
export async function startDashboard(fleet: Fleet, options: DashboardOptions): Promise<Dashboard> {
  if (!isLoopbackHost(options.host) && options.auth === undefined) {
    throw new ConfigError(
      `invalid configuration:\n  DASHBOARD_HOST=${JSON.stringify(options.host)} is not a loopback address: ` +
        'set DASHBOARD_USER and DASHBOARD_PASSWORD to protect the dashboard, or bind DASHBOARD_HOST to 127.0.0.1',
    );
  }
  // A Queue without an 'error' listener prints every Redis reconnect error to stderr; the fleet's
  // connection listener already logs them as structured warnings, so keep these at debug.
  const onQueueError = (err: Error) =>
    fleet.log.debug({ code: 'DASHBOARD_QUEUE', err: err.message }, 'queue error');
  for (const name of QUEUE_NAMES) fleet.queues[name].on('error', onQueueError);
  const detach = () => {
    for (const name of QUEUE_NAMES) fleet.queues[name].off('error', onQueueError);
  };

  const register = createMetrics(fleet);
  const app = express();
  app.disable('x-powered-by');

  app.get('/healthz', async (_req, res) => {
    const up = await withTimeout(fleet.redis.ping(), HEALTH_TIMEOUT_MS, 'redis PING').then(
      (answer) => answer === 'PONG',
      () => false,
    );
    res.set('Cache-Control', 'no-store');
    if (up) res.status(200).json({ status: 'ok', redis: 'up' });
    else res.status(503).json({ status: 'degraded', redis: 'down' });
  });

  // The S3 event webhook has its own bearer secret (MinIO cannot send basic auth).
  if (options.webhookSecret) app.use('/webhooks/s3', createS3EventWebhook(fleet, { secret: options.webhookSecret }));

  if (options.auth) app.use(basicAuth(options.auth));

  app.get('/metrics', async (_req, res, next) => {
    try {
      const body = await register.metrics();
      res.set('Content-Type', register.contentType).send(body);
    } catch (err) {
      next(err);
    }
  });

  app.use('/', createBoardRouter(fleet, options.readOnly ?? false));

  const server: Server = app.listen(options.port, options.host);
  try {
    // events.once rejects with the 'error' event (EADDRINUSE, EACCES) if it comes first.
    await once(server, 'listening');
  } catch (err) {
    detach();
    throw err;
  }
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') && !options.host.startsWith('[') ? `[${options.host}]` : options.host;
  const url = `http://${host}:${port}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        detach();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
