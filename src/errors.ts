/**
 * Typed errors. Each carries a stable machine-readable `code` (logged as a field, matched by
 * tests) and its class says what happens next, the way undici and Crawlee do it:
 * - {@link TmdbTransientError}: retried by the queue with exponential backoff and jitter;
 * - {@link TmdbNotFoundError}: never retried, counted as notFound;
 * - {@link TmdbAuthError}: never retried, fails the whole run at once;
 * - {@link ConfigError} / {@link UsageError}: stop before any work, one clear message.
 */

/** Base of every error the fleet throws on purpose. */
export class FleetError extends Error {
  /** Stable machine-readable code, e.g. `TMDB_AUTH`. */
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

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

/** TMDB refused the credential (HTTP 401, status_code 7/3/10). Fails the run without retry. */
export class TmdbAuthError extends FleetError {
  constructor(message: string) {
    super('TMDB_AUTH', message);
  }
}

/** TMDB has no such resource (HTTP 404, status_code 34 or 6). Counted, never retried. */
export class TmdbNotFoundError extends FleetError {
  constructor(path: string) {
    super('TMDB_NOT_FOUND', `TMDB has no resource at ${path}`);
  }
}

/** A 4xx other than 401/404/429: our request is wrong; retrying would not help. */
export class TmdbRequestError extends FleetError {
  readonly statusCode: number;
  constructor(statusCode: number, message: string) {
    super('TMDB_BAD_REQUEST', message);
    this.statusCode = statusCode;
  }
}

/** 5xx, connection reset, timeout or an unreadable body: worth another attempt later. */
export class TmdbTransientError extends FleetError {
  readonly statusCode: number | undefined;
  constructor(message: string, statusCode?: number, options?: { cause?: unknown }) {
    super('TMDB_TRANSIENT', message, options);
    this.statusCode = statusCode;
  }
}

/** The lake (S3 bucket or local directory) cannot be written: missing bucket, denied access. */
export class LakeError extends FleetError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('LAKE_UNAVAILABLE', message, options);
  }
}

/** No run with that id is known to Redis. */
export class RunNotFoundError extends FleetError {
  constructor(runId: string) {
    super('RUN_NOT_FOUND', `no run with id "${runId}" (it may have expired or never existed)`);
  }
}

/** A local file cannot be uploaded as it is (missing, unreadable, a malformed row). Not retried. */
export class LocalFileError extends FleetError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('LOCAL_FILE', message, options);
  }
}

/** What the lake holds after an upload differs from the local file (size or checksum). Retried. */
export class IntegrityError extends FleetError {
  constructor(message: string) {
    super('LAKE_INTEGRITY', message);
  }
}
