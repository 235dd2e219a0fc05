/**
 * `tmdb-fleet ddl athena` prints DDL that matches the lake layout: the table's location and
 * partition projection are the key layout the writers use, the view's pattern finds the run id
 * and batch of a real object key, and every declared column is a field of the recorded TMDB
 * document of that kind.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { OBJECT_NAME_PATTERN, athenaColumns, athenaDdl } from '../src/lake/athena.js';
import { dataKey, dataKeyBase } from '../src/lake/keys.js';
import { newRunId } from '../src/runs/run-id.js';
import { RECORDED_DIR as FIXTURES } from '../src/sandbox/fixtures.js';
import { runCli } from './support/fleet-process.js';

const recorded = (file: string) => JSON.parse(readFileSync(path.join(FIXTURES, file), 'utf8')) as Record<string, unknown>;

describe.each(['movie', 'tv'] as const)('%s', (kind) => {
  const [table = '', view = ''] = athenaDdl({ kind, location: 's3://lake/raw/tmdb', since: '2026-01-01' });

  it('projects partitions onto the writers key layout, day by day', () => {
    const at = new Date('2026-11-21T23:59:00Z');
    const key = dataKey(dataKeyBase('raw/tmdb', kind, newRunId(kind, at), at), 7);
    const location = /LOCATION '([^']+)'/.exec(table)?.[1] ?? '';
    const template = /'storage.location.template' = '([^']+)'/.exec(table)?.[1] ?? '';
    expect(location).toBe(`s3://lake/raw/tmdb/${kind}/`);
    expect(template).toBe(`${location}\${ingest_date}/`);
    // projection.ingest_date.format yyyy/MM/dd renders 2026-11-21 as 2026/11/21.
    expect(table).toContain("'projection.ingest_date.format' = 'yyyy/MM/dd'");
    expect(`s3://lake/${key}`.startsWith(template.replace('${ingest_date}', '2026/11/21'))).toBe(true);
    expect(table).toContain("'projection.ingest_date.range' = '2026/01/01,NOW'");
    expect(table).toMatch(/^CREATE EXTERNAL TABLE IF NOT EXISTS default\.tmdb_\w+_raw \(/);
    expect(table).toContain("ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'");
  });

  it("finds the run id and batch of a real object key in the view's pattern", () => {
    const at = new Date('2026-11-21T05:12:00Z');
    const runId = newRunId(kind, at);
    const key = dataKey(dataKeyBase('raw/tmdb', kind, runId, at), 42);
    const m = new RegExp(OBJECT_NAME_PATTERN).exec(`s3://lake/${key}`);
    expect(m?.slice(1)).toEqual([runId, '000042']);
    expect(view).toContain(`FROM default.tmdb_${kind}_raw t`);
    expect(view).toMatch(/PARTITION BY t\.id/);
    expect(view).toMatch(/WHERE fetch_rank = 1;$/);
  });

  it('declares only fields the recorded TMDB document has', () => {
    const doc = {
      ...recorded(kind === 'movie' ? 'movie-550.json' : 'tv-1399.json'),
      external_ids: (recorded(kind === 'movie' ? 'movie-550-append-credits-release_dates-external_ids-keywords-images.json' : 'tv-1399-append-external_ids.json') as { external_ids: unknown }).external_ids,
    };
    for (const { name, type } of athenaColumns(kind)) {
      expect(doc, name).toHaveProperty(name);
      const fields = /^struct<(.*)>$/.exec(type)?.[1];
      for (const f of fields ? fields.split(',').map((p) => p.split(':')[0] ?? '') : []) {
        expect(doc[name as keyof typeof doc], `${name}.${f}`).toHaveProperty(f);
      }
    }
  });
});

describe('the command', () => {
  it('prints both kinds for the S3 lake of the configuration', async () => {
    const res = await runCli(['ddl', 'athena'], { S3_BUCKET: 'my-lake', S3_PREFIX: 'raw/tmdb' });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain("LOCATION 's3://my-lake/raw/tmdb/movie/'");
    expect(res.stdout).toContain("LOCATION 's3://my-lake/raw/tmdb/tv/'");
    expect(res.stdout.match(/CREATE OR REPLACE VIEW/g)).toHaveLength(2);
  });

  it('asks for --location when the lake is a local directory, exit 2', async () => {
    const res = await runCli(['ddl', 'athena', '--kind', 'movie'], { S3_BUCKET: '' });
    expect(res.code).toBe(2);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toContain('pass --location s3://bucket/prefix');
  });

  it('refuses a bad --since with exit 2 naming it', async () => {
    const res = await runCli(['ddl', 'athena', '--location', 's3://b-x/raw', '--since', '2026-13-01'], {});
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('--since "2026-13-01"');
  });
});
