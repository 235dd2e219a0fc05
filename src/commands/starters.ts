/**
 * A run command's arguments, once parsed and validated, become a {@link RunStarter}: the call of
 * the producer that starts the run. The command's action runs it under `startAndFollow`; a
 * schedule's tick (`schedule.ts`) runs the same starter inside a worker. Both go through the
 * same producer functions.
 */
import type { Fleet } from '../fleet.js';

/** What a caller of a starter may want to hear. */
export interface StartHooks {
  /** Called with the run id as soon as the run exists (before a long producer finishes). */
  onCreated?: (runId: string) => Promise<void>;
  /** A line for the operator (the CLI prints it on stderr). */
  report?: (line: string) => void;
}

/** Starts a run through its producer; resolves with the run id once the producer is done. */
export type RunStarter = (fleet: Fleet, hooks: StartHooks) => Promise<string>;

/** Hooks of a command run by hand: lines go to stderr as `tmdb-fleet: …`. */
export const cliHooks: StartHooks = { report: (line) => process.stderr.write(`tmdb-fleet: ${line}\n`) };
