/**
 * Delimited-text checks with csv-parse: the header of a file (read from its first line only)
 * and a row counter that validates every row while the file streams past. `\N` (the IMDB
 * extracts' null) is an ordinary field value here.
 */
import { createReadStream } from 'node:fs';
import type { Transform } from 'node:stream';
import { parse, type Options } from 'csv-parse';
import { UsageError } from '../errors.js';

/** How a file is delimited. */
export interface CsvDialect {
  /** One character, e.g. `|`. */
  delimiter: string;
}

/** The csv-parse options of a dialect: `"` quotes (relaxed), empty lines skipped. */
function parseOptions(dialect: CsvDialect): Options {
  return { delimiter: dialect.delimiter, relax_quotes: true, skip_empty_lines: true, bom: true };
}

/** Delimiters tried to hint at what a file really uses. */
const OTHER_DELIMITERS = ['|', ',', ';', '\t'];

/**
 * Reads the header of a delimited file (its first record only; the rest is never read) and
 * checks it: at least 2 non-empty, unique column names, and exactly `expected` when given.
 * @param file - absolute path, for reading and for the message.
 * @returns the column names.
 * @throws UsageError naming the file and what was expected.
 */
export async function checkCsvHeader(file: string, dialect: CsvDialect, expected?: string[]): Promise<string[]> {
  const columns = await readFirstRecord(file, dialect);
  const shown = JSON.stringify(dialect.delimiter);
  if (columns.length < 2) {
    const line = columns[0] ?? '';
    const hint = OTHER_DELIMITERS.find((d) => d !== dialect.delimiter && line.includes(d));
    throw new UsageError(
      `${file}: the header has ${columns.length} column(s) when split on ${shown}: expected at least 2 column names separated by ${shown}${hint ? ` (the line looks delimited by ${JSON.stringify(hint)}; pass --delimiter ${JSON.stringify(hint)})` : ''}`,
    );
  }
  const empty = columns.findIndex((c) => c.trim() === '');
  if (empty >= 0) throw new UsageError(`${file}: header column ${empty + 1} is empty: expected a name for every column`);
  const dup = columns.find((c, i) => columns.indexOf(c) !== i);
  if (dup !== undefined) throw new UsageError(`${file}: header column "${dup}" appears twice: expected unique column names`);
  if (expected && (expected.length !== columns.length || expected.some((c, i) => c !== columns[i]))) {
    throw new UsageError(
      `${file}: the header is ${columns.join(dialect.delimiter)}: expected ${expected.join(dialect.delimiter)}`,
    );
  }
  return columns;
}

async function readFirstRecord(file: string, dialect: CsvDialect): Promise<string[]> {
  const input = createReadStream(file, { highWaterMark: 64 * 1024 });
  const parser = parse({ ...parseOptions(dialect), to_line: 1, relax_column_count: true });
  let first: string[] | undefined;
  try {
    for await (const record of input.pipe(parser)) {
      first = record as string[];
      break;
    }
  } catch (err) {
    throw new UsageError(`${file}: the header cannot be read as delimited text: ${(err as Error).message}`);
  } finally {
    input.destroy();
  }
  if (!first) throw new UsageError(`${file} is empty: expected a header line`);
  return first;
}

/**
 * A csv-parse transform (bytes in, records out) that fails with csv-parse's
 * `CSV_RECORD_INCONSISTENT_FIELDS_LENGTH` (and the line number) when a row's field count differs
 * from the header's.
 */
export function csvRecords(dialect: CsvDialect): Transform {
  return parse({ ...parseOptions(dialect), relax_column_count: false });
}
