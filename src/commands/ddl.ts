/**
 * `tmdb-fleet ddl athena [--kind movie|tv] [--database <name>] [--location s3://bucket/prefix]
 * [--since YYYY-MM-DD]`: prints the Athena DDL of the raw zone (src/lake/athena.ts).
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import type { GetConfig } from './private-redis.js';
import { isIsoDate } from '../dates.js';
import { UsageError } from '../errors.js';
import { athenaDdl } from '../lake/athena.js';
import { formatS3Url, parseS3Url } from '../lake/s3-url.js';
import type { Kind } from '../runs/types.js';

const date = (value: string): string => {
  if (!isIsoDate(value)) throw new InvalidArgumentError(`--since "${value}" is not a date: expected YYYY-MM-DD`);
  return value;
};
const identifier = (value: string): string => {
  if (!/^[a-z_][a-z0-9_]{0,254}$/.test(value)) {
    throw new InvalidArgumentError(`--database "${value}" is not a Glue database name: expected lower-case letters, digits and _`);
  }
  return value;
};

/** The `ddl` command. */
export function ddlCommand(getConfig: GetConfig): Command {
  const ddl = new Command('ddl').description('print DDL for reading the raw zone downstream');
  ddl
    .command('athena')
    .description('CREATE EXTERNAL TABLE (JSON SerDe, partition projection by ingestion date) and a latest-document-per-id view')
    .addOption(new Option('--kind <kind>', 'movie or tv (default: both)').choices(['movie', 'tv']))
    .option('--database <name>', 'Glue database', identifier, 'default')
    .option('--location <s3url>', 's3://bucket/prefix of the raw zone (default: S3_BUCKET and S3_PREFIX)')
    .option('--since <date>', 'first ingestion date to project, YYYY-MM-DD (default: a year ago)', date)
    .action(async (opts: { kind?: Kind; database: string; location?: string; since?: string }) => {
      const config = await getConfig();
      let location: string;
      if (opts.location) location = formatS3Url(parseS3Url(opts.location, '--location')).replace(/\/$/, '');
      else if (config.lake.kind === 's3') location = `s3://${config.lake.bucket}/${config.lake.prefix}`;
      else throw new UsageError('S3_BUCKET is unset (the lake is a local directory): pass --location s3://bucket/prefix');
      const since = opts.since ?? new Date(Date.now() - 365 * 86_400_000).toISOString().slice(0, 10);
      const kinds: Kind[] = opts.kind ? [opts.kind] : ['movie', 'tv'];
      const statements = kinds.flatMap((kind) => athenaDdl({ kind, location, database: opts.database, since }));
      process.stdout.write(`${statements.join('\n\n')}\n`);
    });
  return ddl;
}
