/**
 * Upload producer: turns `upload <path|glob>… --dataset <name>` into a run. Everything that can
 * be wrong with the arguments is found before anything is enqueued: a missing file, a glob that
 * matches nothing, a name that would escape the prefix, two files with one name, a header that
 * is not what `--format csv` expects. Then the run is recorded with one page per file
 * (`file#<name>`) and one upload job per file.
 *
 * Glob matching is picomatch's (see {@link globMatcher}); this file only lists the directory a
 * glob starts from. A `--header` line is split by csv-parse, in the file's dialect.
 */
import { readdir, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import picomatch from 'picomatch';
import type { Fleet } from '../fleet.js';
import { UsageError } from '../errors.js';
import { checkCsvHeader } from '../lake/csv.js';
import { DEFAULT_LOCAL_PREFIX, checkKeyPrefix, checkKeySegment, localFileKey } from '../lake/local-files.js';
import { enqueueUploads } from '../jobs/upload.js';
import { newRunId } from '../runs/run-id.js';
import type { RunParams } from '../runs/types.js';

/** Arguments of `tmdb-fleet upload`, as the CLI received them. */
export interface UploadArgs {
  /** Paths, directories (their files, not recursive) or globs (`*`, `?`, `[…]`, `**`). */
  patterns: string[];
  dataset: string | undefined;
  /** @defaultValue raw/local/csv */
  prefix?: string | undefined;
  /** `csv` (default) or `raw`. */
  format?: string | undefined;
  /** @defaultValue `|` */
  delimiter?: string | undefined;
  /** Exact header expected, columns joined by the delimiter. */
  header?: string | undefined;
}

/** One file of an upload plan. */
export interface PlannedFile {
  path: string;
  name: string;
  key: string;
  /** Bytes, when planned. */
  size: number;
}

/** A validated upload: what to upload where. */
export interface UploadPlan {
  dataset: string;
  prefix: string;
  format: 'csv' | 'raw';
  delimiter: string;
  files: PlannedFile[];
}

/** What makes an argument a glob rather than a path: `*`, `?` or `[`. */
const GLOB_CHARS = /[*?[]/;

/**
 * picomatch options for the documented glob syntax only: `*`, `?`, `[…]` (`[!…]` and `[^…]`
 * negate), `**`. Dotfiles match like any other name; braces, extglobs and a leading `!` are
 * literal characters, as in a plain path.
 */
const GLOB_OPTIONS: picomatch.PicomatchOptions = { dot: true, posix: true, nobrace: true, noextglob: true, nonegate: true };

/**
 * A matcher for one glob (relative, `/`-separated) by picomatch. Parentheses and `|` are escaped
 * first: picomatch would read them as regex groups, and here they are file-name characters.
 */
function globMatcher(glob: string): (file: string) => boolean {
  return picomatch(glob.replace(/[()|]/g, '\\$&'), GLOB_OPTIONS);
}

/**
 * The column names of a `--header` line, read by csv-parse in the file's dialect (so a quoted
 * name compares equal to the same name quoted in the file).
 * @throws UsageError when the line is not valid delimited text.
 */
function expectedColumns(header: string, delimiter: string): string[] {
  try {
    return parseCsv(header, { delimiter, relax_quotes: true, relax_column_count: true, to_line: 1 })[0] ?? [''];
  } catch (err) {
    throw new UsageError(`--header ${JSON.stringify(header)} is not valid delimited text: ${(err as Error).message}`);
  }
}

/** Regular files under `dir` (recursively when `deep`), as paths relative to `dir` with `/`. */
async function walk(dir: string, deep: boolean, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isFile()) out.push(r);
    else if (e.isDirectory() && deep) out.push(...(await walk(dir, deep, r)));
  }
  return out;
}

/**
 * Expands paths, directories and globs (relative to `cwd`) into absolute file paths, sorted and
 * without duplicates.
 * @throws UsageError for a path that does not exist or a glob that matches no file.
 */
export async function expandPaths(patterns: string[], cwd = process.cwd()): Promise<string[]> {
  if (patterns.length === 0) throw new UsageError('no file given: expected one or more paths or globs, e.g. ./exports/*.csv');
  const found = new Set<string>();
  for (const pattern of patterns) {
    const abs = path.resolve(cwd, pattern);
    if (!GLOB_CHARS.test(pattern)) {
      const info = await stat(abs).catch(() => undefined);
      if (!info) throw new UsageError(`${pattern}: no such file or directory`);
      if (info.isDirectory()) {
        const files = (await walk(abs, false)).filter((f) => !f.startsWith('.'));
        if (files.length === 0) throw new UsageError(`${pattern}: the directory holds no file`);
        for (const f of files) found.add(path.join(abs, f));
      } else if (info.isFile()) found.add(abs);
      else throw new UsageError(`${pattern}: not a regular file`);
      continue;
    }
    const segments = abs.split(path.sep);
    const first = segments.findIndex((s) => GLOB_CHARS.test(s));
    const base = segments.slice(0, first).join(path.sep) || path.sep;
    const rest = segments.slice(first).join('/');
    const isMatch = globMatcher(rest);
    const files = await walk(base, rest.includes('**') || rest.includes('/')).catch(() => [] as string[]);
    const matched = files.filter((f) => isMatch(f));
    if (matched.length === 0) throw new UsageError(`${pattern}: the glob matches no file`);
    for (const f of matched) found.add(path.join(base, ...f.split('/')));
  }
  return [...found].sort();
}

/**
 * Validates an upload and plans its keys for the UTC date `at`; reads only the first line of
 * each csv file.
 * @throws UsageError naming the bad value (or the file) and what was expected.
 */
export async function planUpload(args: UploadArgs, at = new Date(), cwd = process.cwd()): Promise<UploadPlan> {
  if (args.dataset === undefined) throw new UsageError('--dataset is required: expected a name such as movies');
  const dataset = checkKeySegment('--dataset', args.dataset);
  const prefix = checkKeyPrefix('--prefix', args.prefix ?? DEFAULT_LOCAL_PREFIX);
  const format = args.format ?? 'csv';
  if (format !== 'csv' && format !== 'raw') throw new UsageError(`--format "${format}" is not supported: expected csv or raw`);
  const delimiter = args.delimiter ?? '|';
  if ([...delimiter].length !== 1 || delimiter === '\n' || delimiter === '\r' || delimiter === '"') {
    throw new UsageError(`--delimiter ${JSON.stringify(delimiter)}: expected one character other than a quote or line break, e.g. "|"`);
  }
  if (args.header !== undefined && format !== 'csv') throw new UsageError('--header needs --format csv');
  const expected = args.header === undefined ? undefined : expectedColumns(args.header, delimiter);
  const files: PlannedFile[] = [];
  const byName = new Map<string, string>();
  for (const file of await expandPaths(args.patterns, cwd)) {
    const name = checkKeySegment(`file name of ${file}`, path.basename(file));
    const other = byName.get(name);
    if (other) throw new UsageError(`${other} and ${file} would both land at key .../${name}: expected one file per name in a dataset`);
    byName.set(name, file);
    if (format === 'csv') await checkCsvHeader(file, { delimiter }, expected);
    files.push({ path: file, name, key: localFileKey(prefix, dataset, name, at), size: (await stat(file)).size });
  }
  return { dataset, prefix, format, delimiter, files };
}

/** The stored parameters of an upload run (its manifest's `params`). */
export function uploadRunParams(plan: UploadPlan): RunParams {
  return {
    kind: 'upload',
    params: {
      dataset: plan.dataset,
      prefix: plan.prefix,
      format: plan.format,
      delimiter: plan.delimiter,
      host: hostname(),
      files: JSON.stringify(plan.files.map((f) => f.path)),
    },
  };
}

/**
 * Starts an upload run: checks the lake (S3 HeadBucket or the local directory), records the
 * run with one page per file and enqueues one upload job per file (job id `u.<runId>.<n>`).
 * @throws LakeError before anything is enqueued; UsageError when the same upload is running
 * and `force` is not set.
 */
export async function startUpload(fleet: Fleet, plan: UploadPlan, options: { force?: boolean } = {}): Promise<{ runId: string }> {
  await fleet.store.check();
  const runId = newRunId('upload');
  const running = await fleet.runs.create(runId, uploadRunParams(plan), {
    lakePrefix: fleet.config.lake.prefix,
    force: options.force ?? false,
  });
  if (running) {
    throw new UsageError(
      `run ${running} is uploading the same files: follow it with "tmdb-fleet status ${running}", stop it with "tmdb-fleet cancel ${running}", or pass --force to start another`,
    );
  }
  const host = hostname();
  await enqueueUploads(
    fleet,
    runId,
    plan.files.map((f) => ({ path: f.path, name: f.name, key: f.key, host, format: plan.format, delimiter: plan.delimiter })),
  );
  fleet.log.info({ runId, files: plan.files.length, dataset: plan.dataset }, 'upload enqueued');
  return { runId };
}
