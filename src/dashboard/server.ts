/**
 * The fleet's dashboard: one Express app serving Bull Board over every queue at `/`, a Redis
 * health check at `/healthz` and Prometheus metrics at `/metrics`. Everything except `/healthz`
 * sits behind HTTP basic auth (express-basic-auth) when credentials are configured; a
 * non-loopback bind without credentials is refused.
 */
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import express, { type Request, type RequestHandler, type Router } from 'express';
import expressBasicAuth from 'express-basic-auth';
import { Registry } from 'prom-client';
import { ConfigError } from '../errors.js';
import type { Fleet } from '../fleet.js';
import { QUEUE_NAMES } from '../queues.js';
import { registerFleetMetrics, withTimeout } from './fleet-metrics.js';
import { createRunsRouter } from './runs-page.js';
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

const REALM = 'tmdb-fleet';
const HEALTH_TIMEOUT_MS = 1_000;

/** True for addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return h === 'localhost' || h === '::1' || h === '127.0.0.1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/**
 * HTTP basic auth (RFC 7617) by express-basic-auth: a `Basic realm="tmdb-fleet"` challenge on
 * 401, and both user and password checked with its timing-safe `safeCompare` (both always
 * evaluated, so timing does not reveal which one was wrong).
 */
function basicAuth(auth: { user: string; password: string }): RequestHandler {
  return expressBasicAuth({
    authorizer: (user: string, password: string): boolean => {
      const userOk = expressBasicAuth.safeCompare(user, auth.user);
      const passwordOk = expressBasicAuth.safeCompare(password, auth.password);
      return userOk && passwordOk;
    },
    challenge: true,
    realm: REALM,
    unauthorizedResponse: (req: Request) => {
      req.res?.type('text/plain');
      return 'authentication required\n';
    },
  });
}

/**
 * The dashboard's registry: this process's own metrics (fleet.metrics, with Node's default
 * process metrics) and the fleet-wide gauges read from Redis on scrape (fleet-metrics.ts).
 */
function createMetrics(fleet: Fleet): Registry {
  const fleetWide = new Registry();
  registerFleetMetrics(fleet, fleetWide);
  return Registry.merge([fleet.metrics.registry, fleetWide]);
}

/** The Bull Board router over every queue of the fleet, mounted at base path `/`. */
function createBoardRouter(fleet: Fleet, readOnlyMode: boolean): Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath('/');
  createBullBoard({
    queues: QUEUE_NAMES.map((name) => new BullMQAdapter(fleet.queues[name], { readOnlyMode })),
    serverAdapter,
    // The runs pages sit beside the board; its header links to them (and not to the web).
    // Workers share the fleet's connection, which BullMQ's CLIENT LIST count cannot see: the
    // runs page shows them from their heartbeats instead of the board's "No workers".
    options: {
      uiConfig: { boardTitle: 'tmdb-fleet', miscLinks: [{ text: 'Runs', url: '/runs' }], hideDocsLink: true, showWorkers: false },
    },
  });
  return serverAdapter.getRouter() as Router;
}

/**
 * Starts Express + Bull Board over every queue of the fleet, /healthz and /metrics.
 *
 * Routes:
 * - `GET /healthz` (never behind auth): 200 `{"status":"ok","redis":"up"}` when Redis answers
 *   PING within 1 s, else 503 `{"status":"degraded","redis":"down"}`;
 * - `GET /metrics`: Prometheus text: the fleet-wide gauges read from Redis on scrape (jobs by
 *   queue and state, worker liveness, recent runs' progress and state; fleet-metrics.ts) and this
 *   process's own metrics (default process metrics included);
 * - `POST /webhooks/s3` (own bearer secret, not basic auth; only with `webhookSecret`): S3 event
 *   notifications for `sync --watch` (see webhook.ts);
 * - `GET /runs`, `GET /runs/<runId>` (+ `/manifest.json`), and unless read-only
 *   `POST /runs/<runId>/cancel|resume`: the runs pages (runs-page.ts);
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

  app.use(createRunsRouter(fleet, { readOnly: options.readOnly ?? false }));
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
