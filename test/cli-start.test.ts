/**
 * The executable's start: Node's module compile cache is on where Node has it (≥ 22.1), so every
 * later command and worker start reuses the compiled code; on an older Node the CLI runs the same
 * without it. CI runs this file on Node 20 and 24: each asserts its own side.
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import module from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { runCli } from './support/fleet-process.js';

/** Files under `dir`, recursively. */
const filesUnder = (dir: string): string[] => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name);

it('fills the compile cache on a start where Node has one, and runs the same where it has none', async () => {
  // The cache goes under the OS temp directory (TMPDIR), where no NODE_COMPILE_CACHE points.
  const temp = mkdtempSync(path.join(tmpdir(), 'tmdb-fleet-compile-cache-'));
  const res = await runCli(['--help'], { TMPDIR: temp, NODE_COMPILE_CACHE: '' }, 30_000);
  expect(res.code, res.stderr).toBe(0);
  expect(res.stdout).toContain('Usage: tmdb-fleet');
  const cached = filesUnder(temp);
  if (typeof (module as { enableCompileCache?: unknown }).enableCompileCache === 'function') {
    // The CLI's own modules and its libraries' (commander, BullMQ, the AWS SDK …): dozens of files.
    expect(cached.length).toBeGreaterThan(50);
  } else {
    expect(cached).toEqual([]);
  }
});
