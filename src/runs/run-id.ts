/**
 * Run ids, formatted and parsed here only (32 random bits per second and kind; `create` refuses an
 * id that exists, so two runs never merge): `<kind>-<UTC yyyymmddThhmmss>-<8 hex>`, e.g.
 * `movie-20240102T030405-a1b2c3d4`: sortable by start time within a kind, and safe in Redis keys,
 * object keys and job ids (no `.`, `:`, `#` or `/`).
 */
import { randomBytes } from 'node:crypto';
import type { RunKind } from './types.js';

const RUN_KINDS: readonly RunKind[] = ['movie', 'tv', 'upload', 'sync'];

/** A new run id for a run of `kind` starting at `now`. */
export function newRunId(kind: RunKind, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').slice(0, 15);
  return `${kind}-${stamp}-${randomBytes(4).toString('hex')}`;
}

/**
 * What a run id says: the run's kind and when it started (to the second).
 * @throws Error when `runId` is not a run id.
 */
export function parseRunId(runId: string): { kind: RunKind; startedAt: Date } {
  const m = /^([a-z]+)-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})-[0-9a-f]{8}$/.exec(runId);
  if (!m || !(RUN_KINDS as readonly string[]).includes(m[1] as string)) throw new Error(`not a run id: ${runId}`);
  const [, kind, y, mo, d, h, mi, s] = m;
  return { kind: kind as RunKind, startedAt: new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}Z`) };
}
