/**
 * Option parsers and option groups shared by commands: each parser names the bad value and what
 * was expected (commander turns an InvalidArgumentError into one line and exit 2).
 */
import { InvalidArgumentError, type Command } from 'commander';
import { QUEUE_NAMES, type QueueName } from '../queues.js';

/** A parser for a whole number ≥ 1, for the option called `name`. */
export const positiveInt = (name: string) => (value: string): number => {
  if (!/^\d+$/.test(value) || Number(value) < 1) {
    throw new InvalidArgumentError(`${name} "${value}" is not a whole number ≥ 1`);
  }
  return Number(value);
};

/** A parser for a whole number from 0 to `max`, for the option called `name`. */
export const wholeNumber = (name: string, max: number) => (value: string): number => {
  if (!/^\d+$/.test(value) || Number(value) > max) {
    throw new InvalidArgumentError(`${name} "${value}" is not a whole number from 0 to ${max}`);
  }
  return Number(value);
};

/** A parser for a number > 0 (decimals allowed) up to `max`, for the option called `name`. */
export const positiveNumber = (name: string, max: number) => (value: string): number => {
  if (!/^\d+(\.\d+)?$/.test(value) || Number(value) <= 0 || Number(value) > max) {
    throw new InvalidArgumentError(`${name} "${value}" is not a number above 0 and up to ${max}`);
  }
  return Number(value);
};

/** A TCP port, 0-65535. */
export const port = (value: string): number => {
  if (!/^\d+$/.test(value) || Number(value) > 65_535) throw new InvalidArgumentError(`port "${value}" is not 0-65535`);
  return Number(value);
};

/** A comma-separated list of the fleet's queue names. */
export const queueList = (value: string): QueueName[] => {
  const names = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) {
    if (!(QUEUE_NAMES as readonly string[]).includes(n)) {
      throw new InvalidArgumentError(`queue "${n}" is unknown: expected some of ${QUEUE_NAMES.join(',')}`);
    }
  }
  return names as QueueName[];
};

/** Collects a repeatable option into a list. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Help of `--allow-partial`, shared by every run-starting command. */
export const ALLOW_PARTIAL_HELP = 'exit 0 (not 3) when the run completes with a shortfall its audit reports';

/**
 * Adds the options of every run-starting command: `--force`, `--wait`, `--json`,
 * `--allow-partial`, `--workers <n>` (see `run-output.ts` FollowOptions).
 */
export function withFollowOptions(command: Command, workersHelp = 'with --wait: also run N workers in this process'): Command {
  return command
    .option('--force', 'start even if a run with the same parameters is running')
    .option('--wait', 'block until the run ends; exit 0 complete by its audit, 3 complete with a shortfall, 1 failed or cancelled')
    .option('--json', 'print the run summary as one JSON object on the last line of stdout')
    .option('--allow-partial', ALLOW_PARTIAL_HELP)
    .option('--workers <n>', workersHelp, positiveInt('--workers'));
}
