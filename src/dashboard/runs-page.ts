/**
 * The runs pages of the dashboard (server-rendered with Eta templates in `views/`, values
 * escaped by Eta): `GET /runs` lists every run newest first with its progress, rate, ETA,
 * objects, records, failures and audit verdict; `GET /runs/<runId>` shows one run's parameters,
 * counts, uncovered windows, dead letters (linked to Bull Board) and manifest;
 * `GET /runs/<runId>/manifest.json` serves the manifest from the lake. Pages with a live run
 * reload themselves every {@link REFRESH_S} s. Unless read-only, `POST /runs/<runId>/cancel` and
 * `POST /runs/<runId>/resume` act on a run (producers/run-control.ts) and redirect back to it.
 * Mounted behind the dashboard's basic auth.
 */
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Fleet } from '../fleet.js';
import { deadLettersOf } from '../jobs/dead-letters.js';
import { isAlive, readWorkers } from '../metrics/heartbeat.js';
import { cancelRun, resumeRun } from '../producers/run-control.js';
import { cachedManifest, listRuns, readRun } from '../runs/history.js';
import type { RunKind, RunState, UncoveredWindow } from '../runs/types.js';
import { duration, isLive, runRow, shortTime } from './run-view.js';

/** Seconds between reloads of a page that shows a live run. */
export const REFRESH_S = 5;
/** Runs listed on the runs page. */
const PAGE_RUNS = 100;
const KINDS: readonly RunKind[] = ['movie', 'tv', 'upload', 'sync'];
const STATES: readonly RunState[] = ['running', 'finalizing', 'completed', 'failed', 'cancelled'];

const eta = new Eta({ views: fileURLToPath(new URL('./views/', import.meta.url)), cache: true, autoEscape: true });

/** Options of {@link createRunsRouter}. */
export interface RunsPageOptions {
  /** Hide cancel and resume, and refuse their POSTs (403). */
  readOnly: boolean;
}

/** Where a failed job is shown in Bull Board. */
export function boardJobUrl(queue: string, jobId: string): string {
  return `/queue/${encodeURIComponent(queue)}/${encodeURIComponent(jobId)}`;
}

/** A POST from another site (a page that borrows the browser's basic auth) is refused. */
function sameOrigin(req: Request): boolean {
  const origin = req.get('origin');
  if (origin === undefined || origin === 'null') return origin === undefined;
  try {
    return new URL(origin).host === req.get('host');
  } catch {
    return false;
  }
}

const pick = <T extends string>(value: unknown, allowed: readonly T[]): T | undefined =>
  typeof value === 'string' && (allowed as readonly string[]).includes(value) ? (value as T) : undefined;

async function listPage(fleet: Fleet, req: Request, res: Response): Promise<void> {
  const kind = pick(req.query.kind, KINDS);
  const state = pick(req.query.state, STATES);
  const now = Date.now();
  const [{ runs, warnings }, workers] = await Promise.all([
    listRuns(fleet, { kind, state, limit: PAGE_RUNS }),
    readWorkers(fleet.redis, fleet.config.redis.prefix, now),
  ]);
  const rows = runs.map((r) => runRow(r, now));
  res.set('Cache-Control', 'no-store').type('html').send(
    eta.render('runs', {
      title: 'Runs',
      refresh: rows.some((r) => r.live) ? REFRESH_S : undefined,
      rows,
      warnings,
      kinds: KINDS,
      states: STATES,
      kind,
      state,
      workers: workers.map((w) => ({ ...w, alive: isAlive(w, now), seen: duration((now - w.lastSeen) / 1_000) })),
    }),
  );
}

async function runPage(fleet: Fleet, readOnly: boolean, req: Request, res: Response): Promise<void> {
  const runId = String(req.params.runId);
  const run = await readRun(fleet, runId);
  if (!run) {
    res.status(404).type('html').send(eta.render('missing', { title: 'Unknown run', runId }));
    return;
  }
  const info = run.origin === 'redis' ? await fleet.runs.describe(runId).catch(() => undefined) : undefined;
  const lakePrefix = info?.lakePrefix ?? fleet.config.lake.prefix;
  const [manifest, dead] = await Promise.all([
    cachedManifest(fleet, lakePrefix, runId).catch(() => undefined),
    deadLettersOf(fleet, runId),
  ]);
  const uncovered: UncoveredWindow[] = manifest?.uncoveredWindows ?? (run.origin === 'redis' ? await fleet.runs.uncoveredWindows(runId) : []);
  const row = runRow(run);
  res.set('Cache-Control', 'no-store').type('html').send(
    eta.render('run', {
      title: `Run ${runId}`,
      refresh: row.live ? REFRESH_S : undefined,
      row,
      params: Object.entries({ ...(run.params.from ? { from: run.params.from } : {}), ...(run.params.to ? { to: run.params.to } : {}), ...run.params.params }),
      uncovered,
      dead: dead.letters.map((d) => ({ ...d, url: boardJobUrl(d.queue, d.jobId), when: d.failedAt ? shortTime(new Date(d.failedAt).toISOString()) : '-' })),
      moreDead: dead.more,
      manifest: manifest ? JSON.stringify(manifest, null, 2) : undefined,
      manifestObjects: manifest?.objects.length ?? 0,
      actions: readOnly ? [] : actionsFor(run.state),
      notice: typeof req.query.notice === 'string' ? req.query.notice : undefined,
      error: typeof req.query.error === 'string' ? req.query.error : undefined,
    }),
  );
}

/** The actions a run offers: cancel while it may move, resume when it failed or stalled. */
function actionsFor(state: RunState): ('cancel' | 'resume')[] {
  if (state === 'failed') return ['resume'];
  return isLive(state) ? ['cancel', 'resume'] : [];
}

async function act(fleet: Fleet, action: 'cancel' | 'resume', req: Request, res: Response): Promise<void> {
  const runId = String(req.params.runId);
  const back = (query: string) => res.redirect(303, `/runs/${encodeURIComponent(runId)}?${query}`);
  try {
    if (action === 'cancel') {
      const { removed } = await cancelRun(fleet, runId);
      back(`notice=${encodeURIComponent(`cancelling: ${removed} queued jobs removed`)}`);
    } else {
      const r = await resumeRun(fleet, runId);
      back(`notice=${encodeURIComponent(`resumed: ${r.retried} dead letters retried, ${r.pages} pages and ${r.titles} titles enqueued again`)}`);
    }
  } catch (err) {
    fleet.log.warn({ runId, action, err: err instanceof Error ? err.message : String(err) }, 'dashboard action refused');
    back(`error=${encodeURIComponent(err instanceof Error ? err.message : String(err))}`);
  }
}

/** The router of the runs pages (mount at `/`, after basic auth). */
export function createRunsRouter(fleet: Fleet, options: RunsPageOptions): Router {
  const router = express.Router();
  const wrap = (handler: (req: Request, res: Response) => Promise<void>) => (req: Request, res: Response, next: NextFunction) =>
    handler(req, res).catch(next);
  router.get('/runs', wrap((req, res) => listPage(fleet, req, res)));
  router.get('/runs/:runId', wrap((req, res) => runPage(fleet, options.readOnly, req, res)));
  router.get(
    '/runs/:runId/manifest.json',
    wrap(async (req, res) => {
      const runId = String(req.params.runId);
      const info = await fleet.runs.describe(runId).catch(() => undefined);
      const manifest = await cachedManifest(fleet, info?.lakePrefix ?? fleet.config.lake.prefix, runId);
      if (manifest) res.set('Cache-Control', 'no-store').json(manifest);
      else res.status(404).json({ error: `run ${runId} has no manifest (it has not finished, or is unknown)` });
    }),
  );
  for (const action of ['cancel', 'resume'] as const) {
    router.post(
      `/runs/:runId/${action}`,
      wrap(async (req, res) => {
        if (options.readOnly) {
          res.status(403).type('text/plain').send('the dashboard is read-only (DASHBOARD_READ_ONLY)\n');
          return;
        }
        if (!sameOrigin(req)) {
          res.status(403).type('text/plain').send('refused: the request came from another site\n');
          return;
        }
        await act(fleet, action, req, res);
      }),
    );
  }
  return router;
}
