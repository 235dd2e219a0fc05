/**
 * `tmdb-fleet verify <runId> [--json]`: re-checks a finished run from the lake, as a downstream
 * job would (`report/verify.ts`), and prints the run's own audit with what the lake says.
 * Exit codes: 0 the lake matches a run complete by its audit; 3 it matches, but the run did not
 * complete or its audit reports a shortfall; 1 the lake contradicts the manifest (a missing
 * object, a wrong record count, a duplicate id); 2 a bad run id, or one with no manifest.
 */
import { Command } from 'commander';
import type { GetConfig } from './private-redis.js';
import { UsageError } from '../errors.js';
import { manifestKey } from '../lake/keys.js';
import { readManifest } from '../lake/manifest.js';
import { openStore } from '../lake/store.js';
import { verifyRun, type VerifyResult } from '../report/verify.js';
import { parseRunId } from '../runs/run-id.js';
import { EXIT } from './exit-codes.js';

/** The exit code of a verification. */
export function verifyExitCode(r: Pick<VerifyResult, 'verdict'>): number {
  return r.verdict === 'contradicted' ? EXIT.failed : r.verdict === 'partial' ? EXIT.partial : EXIT.ok;
}

/** What `verify` prints without `--json`: the run, the lake's findings, the audit, the verdict. */
export function humanVerify(r: VerifyResult): string {
  const lines = [
    `run ${r.runId} (${r.kind}, ${r.state}): manifest ${r.manifest}`,
    `  lake: ${r.objects} objects listed, ${r.recordsRead} of ${r.listedRecords} listed records read, ` +
      `${r.missingObjects.length} missing, ${r.wrongCounts.length} with a wrong count, ${r.duplicates} duplicate records`,
    ...r.problems.map((p) => `  problem: ${p}`),
  ];
  if (r.audit) lines.push(`  audit: ${r.audit.verdict}`, ...r.audit.shortfalls.map((s) => `    - ${s}`));
  else lines.push('  audit: none (the manifest was written before runs audited themselves)');
  const verdict = {
    clean: 'the lake matches the manifest of a complete run',
    partial: `the lake matches the manifest, but the run ${r.state === 'completed' ? "reports a shortfall (see its audit)" : `is ${r.state}`}`,
    contradicted: `the lake contradicts the manifest (${r.problems.length} ${r.problems.length === 1 ? 'problem' : 'problems'})`,
  }[r.verdict];
  lines.push(`verify: ${verdict}`);
  return `${lines.join('\n')}\n`;
}

/** The `verify` command. */
export function verifyCommand(getConfig: GetConfig): Command {
  return new Command('verify')
    .description('re-check a finished run from the lake: every listed object, its record count, no id twice; print its audit')
    .argument('<runId>', 'the run to verify (its manifest is read)')
    .option('--json', 'one JSON object')
    .action(async (runId: string, opts: { json?: boolean }) => {
      try {
        parseRunId(runId);
      } catch {
        throw new UsageError(`run id "${runId}" is not a run id: expected <kind>-<yyyymmddThhmmss>-<8 hex>, e.g. movie-20261121T051200-3f9a0b1c`);
      }
      const config = await getConfig();
      const store = openStore(config);
      const manifest = await readManifest(store, config.lake.prefix, runId);
      if (!manifest) {
        throw new UsageError(
          `run "${runId}" has no manifest at ${store.location}/${manifestKey(config.lake.prefix, runId)}: it has not finished, or it never ran against this lake (check S3_BUCKET, S3_PREFIX or LAKE_DIR)`,
        );
      }
      const result = await verifyRun(store, config.lake.prefix, manifest);
      process.stdout.write(opts.json ? `${JSON.stringify({ ...result, exitCode: verifyExitCode(result) })}\n` : humanVerify(result));
      process.exitCode = verifyExitCode(result);
    });
}
