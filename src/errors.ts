/**
 * Typed errors, ordered by what happens next (the way Crawlee's `errors.ts` and dlt's
 * Terminal/Transient markers do it). Each carries a stable machine-readable `code` (logged as a
 * field, matched by tests) and, for errors a job can meet, its {@link Consequence}: the one
 * handler in `workers/job-support.ts` reads the class, never the message.
 *
 * - stop before any work (the CLI exits 2): {@link ConfigError}, {@link UsageError},
 *   {@link RunNotFoundError};
 * - `fail-run`: the whole run fails now, no retry anywhere: {@link TmdbAuthError};
 * - `give-up`: this job's item is failed for good (counted, listed) without another attempt:
 *   {@link TmdbNotFoundError}, {@link TmdbRequestError}, {@link LocalFileError},
 *   {@link PermanentS3Error};
 * - `retry`: the queue tries again with exponential backoff and jitter, and gives up after
 *   JOB_ATTEMPTS: {@link TmdbTransientError}, {@link IntegrityError}, {@link LakeError}, and any
 *   error that is not a FleetError.
 */

/** What a failed job does next. */
export type Consequence = 'retry' | 'give-up' | 'fail-run';

/** Base of every error the fleet throws on purpose. */
export class FleetError extends Error {
  /** Stable machine-readable code, e.g. `TMDB_AUTH`. */
  readonly code: string;
  /** What a job that meets this error does next. */
  readonly consequence: Consequence;
  constructor(code: string, message: string, options?: { cause?: unknown; consequence?: Consequence }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.consequence = options?.consequence ?? 'retry';
  }
}

/** What a job does after `err`: a FleetError's consequence, else `retry`. */
export function consequenceOf(err: unknown): Consequence {
  return err instanceof FleetError ? err.consequence : 'retry';
}

// ---- stop before any work ------------------------------------------------------------------

/** A bad or missing environment variable; the message lists every one. */
export class ConfigError extends FleetError {
  constructor(message: string) {
    super('CONFIG_INVALID', message);
  }
}

/** A bad command-line argument; the message names the value and what was expected. */
export class UsageError extends FleetError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

/**
 * A run with the same parameters is running (`--force` starts another anyway). A schedule's tick
 * that meets it skips.
 */
export class RunRunningError extends UsageError {
  /** The running run. */
  readonly runId: string;
  constructor(runId: string, message: string) {
    super(message);
    this.runId = runId;
  }
}

/** No run with that id is known to Redis. */
export class RunNotFoundError extends FleetError {
  constructor(runId: string) {
    super('RUN_NOT_FOUND', `no run with id "${runId}" (it may have expired or never existed)`);
  }
}

// ---- fail the run --------------------------------------------------------------------------

/** TMDB refused the credential (HTTP 401, status_code 7/3/10). Fails the run without retry. */
export class TmdbAuthError extends FleetError {
  constructor(message: string) {
    super('TMDB_AUTH', message, { consequence: 'fail-run' });
  }
}

// ---- give up on this item ------------------------------------------------------------------

/** TMDB has no such resource (HTTP 404, status_code 34 or 6). Counted, never retried. */
export class TmdbNotFoundError extends FleetError {
  constructor(path: string) {
    super('TMDB_NOT_FOUND', `TMDB has no resource at ${path}`, { consequence: 'give-up' });
  }
}

/** A 4xx other than 401/404/429: our request is wrong; retrying would not help. */
export class TmdbRequestError extends FleetError {
  readonly statusCode: number;
  constructor(statusCode: number, message: string) {
    super('TMDB_BAD_REQUEST', message, { consequence: 'give-up' });
    this.statusCode = statusCode;
  }
}

/** A local file cannot be uploaded as it is (missing, unreadable, a malformed row). */
export class LocalFileError extends FleetError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('LOCAL_FILE', message, { ...options, consequence: 'give-up' });
  }
}

/** S3 refused a request for good (missing object or bucket, denied access, bad request). */
export class PermanentS3Error extends FleetError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('S3_PERMANENT', message, { ...options, consequence: 'give-up' });
  }
}

// ---- retry with backoff --------------------------------------------------------------------

/** 5xx, connection reset, timeout or an unreadable body: worth another attempt later. */
export class TmdbTransientError extends FleetError {
  readonly statusCode: number | undefined;
  constructor(message: string, statusCode?: number, options?: { cause?: unknown }) {
    super('TMDB_TRANSIENT', message, options);
    this.statusCode = statusCode;
  }
}

/** What the lake holds after an upload differs from the local file (size or checksum). */
export class IntegrityError extends FleetError {
  constructor(message: string) {
    super('LAKE_INTEGRITY', message);
  }
}

/**
 * The lake (S3 bucket or local directory) cannot be written: missing bucket, denied access.
 * Before a run starts it stops the command; inside a job it is retried.
 */
export class LakeError extends FleetError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('LAKE_UNAVAILABLE', message, options);
  }
}
