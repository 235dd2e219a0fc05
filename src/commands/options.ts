/** Argument parsers shared by commands: each names the bad value and what was expected. */
import { InvalidArgumentError } from 'commander';

/** A parser for a whole number ≥ 1, for the option called `name`. */
export const positiveInt = (name: string) => (value: string): number => {
  if (!/^\d+$/.test(value) || Number(value) < 1) {
    throw new InvalidArgumentError(`${name} "${value}" is not a whole number ≥ 1`);
  }
  return Number(value);
};
