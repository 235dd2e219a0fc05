/**
 * Athena (Trino) DDL for the raw zone: a table over a kind's data objects, partitioned by the
 * UTC ingestion date of the key layout (`<prefix>/<kind>/YYYY/MM/DD/`, see keys.ts) with
 * partition projection (no crawler, no MSCK REPAIR), and a view with the latest document per id.
 *
 * Why the raw table holds one line per fetch: every run that fetched a title wrote its
 * document (a backfill, then each changes run that saw it edited), so the raw table is a
 * history. The view keeps, per id, the line of the newest run (run ids start with their UTC
 * start time, `runs/run-id.ts`), and within a run the highest batch sequence number.
 */
import type { Kind } from '../runs/types.js';

/** Options of {@link athenaDdl}. */
export interface AthenaDdlOptions {
  kind: Kind;
  /** `s3://bucket/prefix` of the raw zone (S3_BUCKET and S3_PREFIX), no trailing slash. */
  location: string;
  /** Glue database. @defaultValue default */
  database?: string;
  /** First ingestion date the projection covers, YYYY-MM-DD. */
  since: string;
}

/** Columns declared for a kind (the JSON SerDe ignores the others; all stay in the objects). */
const COLUMNS: Record<Kind, string[]> = {
  movie: [
    'id bigint',
    'imdb_id string',
    'title string',
    'original_title string',
    'original_language string',
    'release_date string',
    'status string',
    'adult boolean',
    'popularity double',
    'vote_average double',
    'vote_count bigint',
    'budget bigint',
    'revenue bigint',
    'runtime int',
    'genres array<struct<id:int,name:string>>',
    'external_ids struct<imdb_id:string,wikidata_id:string,facebook_id:string,instagram_id:string,twitter_id:string>',
  ],
  tv: [
    'id bigint',
    'name string',
    'original_name string',
    'original_language string',
    'first_air_date string',
    'last_air_date string',
    'status string',
    'type string',
    'adult boolean',
    'popularity double',
    'vote_average double',
    'vote_count bigint',
    'number_of_seasons int',
    'number_of_episodes int',
    'genres array<struct<id:int,name:string>>',
    'external_ids struct<imdb_id:string,tvdb_id:bigint,wikidata_id:string,facebook_id:string,instagram_id:string,twitter_id:string>',
  ],
};

/** The Java/Trino regular expression that takes the run id and batch seq out of `"$path"`. */
export const OBJECT_NAME_PATTERN = '/([a-z]+-[0-9]{8}T[0-9]{6}-[0-9a-f]+)-([0-9]{6})\\.jsonl\\.gz$';

/** The columns a kind's table declares (name and Hive type). */
export function athenaColumns(kind: Kind): { name: string; type: string }[] {
  return COLUMNS[kind].map((c) => {
    const at = c.indexOf(' ');
    return { name: c.slice(0, at), type: c.slice(at + 1) };
  });
}

/**
 * The statements, in order: CREATE EXTERNAL TABLE `<db>.tmdb_<kind>_raw`, then CREATE OR
 * REPLACE VIEW `<db>.tmdb_<kind>_latest`. Each ends with `;`.
 */
export function athenaDdl(options: AthenaDdlOptions): string[] {
  const db = options.database ?? 'default';
  const raw = `${db}.tmdb_${options.kind}_raw`;
  const root = `${options.location}/${options.kind}/`;
  const since = options.since.replace(/-/g, '/');
  const table = [
    `CREATE EXTERNAL TABLE IF NOT EXISTS ${raw} (`,
    COLUMNS[options.kind].map((c) => `  ${c}`).join(',\n'),
    ')',
    'PARTITIONED BY (ingest_date string)',
    "ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'",
    "WITH SERDEPROPERTIES ('ignore.malformed.json' = 'false')",
    `LOCATION '${root}'`,
    'TBLPROPERTIES (',
    "  'projection.enabled' = 'true',",
    "  'projection.ingest_date.type' = 'date',",
    "  'projection.ingest_date.format' = 'yyyy/MM/dd',",
    `  'projection.ingest_date.range' = '${since},NOW',`,
    "  'projection.ingest_date.interval' = '1',",
    "  'projection.ingest_date.interval.unit' = 'DAYS',",
    `  'storage.location.template' = '${root}\${ingest_date}/'`,
    ');',
  ].join('\n');
  const view = [
    `CREATE OR REPLACE VIEW ${db}.tmdb_${options.kind}_latest AS`,
    'SELECT * FROM (',
    '  SELECT t.*,',
    `    regexp_extract("$path", '${OBJECT_NAME_PATTERN}', 1) AS run_id,`,
    `    CAST(regexp_extract("$path", '${OBJECT_NAME_PATTERN}', 2) AS integer) AS batch_seq,`,
    '    row_number() OVER (',
    '      PARTITION BY t.id',
    `      ORDER BY regexp_extract("$path", '${OBJECT_NAME_PATTERN}', 1) DESC,`,
    `               CAST(regexp_extract("$path", '${OBJECT_NAME_PATTERN}', 2) AS integer) DESC`,
    '    ) AS fetch_rank',
    `  FROM ${raw} t`,
    ')',
    'WHERE fetch_rank = 1;',
  ].join('\n');
  return [table, view];
}
