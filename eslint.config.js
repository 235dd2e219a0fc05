import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Import direction (src/): commands → dashboard → producers | workers | report → runs | jobs |
 * queues | fleet → lake | tmdb → config | errors | log | redis | metrics | runs/types. A module may import
 * its own layer and the ones below, never above; nothing outside src/workers/ imports a worker
 * module but its index. Each entry forbids what lies above its files. src/sandbox/ (the TMDB the
 * `sandbox` command serves, and the tests' TMDB) stands apart: it imports nothing of the fleet's,
 * so the client it is there to test cannot lend it its mistakes; only commands import it.
 */
const above = {
  base: ['lake', 'tmdb', 'jobs', 'producers', 'workers', 'report', 'dashboard', 'commands'],
  lakeTmdb: ['jobs', 'producers', 'workers', 'report', 'dashboard', 'commands'],
  state: ['producers', 'workers', 'report', 'dashboard', 'commands'],
  producers: ['workers', 'report', 'dashboard', 'commands'],
  workers: ['producers', 'report', 'dashboard', 'commands'],
  report: ['producers', 'workers', 'dashboard', 'commands'],
  dashboard: ['workers', 'report', 'commands'],
};
const RUNS_BUT_TYPES = { regex: '(^|/)runs/(?!types\\.js$)', message: 'below runs/, only runs/types.js may be imported' };
const WORKER_INTERNALS = {
  regex: '(^|/)workers/(?!index\\.js$)',
  message: 'outside src/workers/, import workers/index.js only (a worker module is private to it)',
};
const forbid = (dirs, files = []) => {
  const patterns = [
    { regex: `(^|/)(${dirs.join('|')})/`, message: `import direction: this layer may not import ${dirs.join(', ')}` },
  ];
  if (files.length > 0) patterns.push({ regex: `(^|/)(${files.join('|')})\\.js$`, message: 'import direction: that module is above this layer' });
  return patterns;
};
const SANDBOX = { regex: '(^|/)sandbox/', message: 'only commands (and tests) use the sandbox' };
const FLEET = { regex: '^\\.\\./', message: 'src/sandbox/ is TMDB\'s side of the wire: it imports nothing of the fleet' };
/** A layer's rule; every layer but commands' and the sandbox's own also keeps src/sandbox/ out. */
const layer = (files, patterns, ignores = [], sandbox = false) => ({
  files,
  ignores,
  rules: { 'no-restricted-imports': ['error', { patterns: sandbox ? patterns : [...patterns, SANDBOX] }] },
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'lake/**', '.tmdb-fleet/**', 'scratch/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  layer(['src/**/*.ts'], [WORKER_INTERNALS], ['src/workers/**']),
  layer(['src/config.ts', 'src/config-env.ts', 'src/errors.ts', 'src/log.ts', 'src/redis/**', 'src/metrics/**', 'src/runs/types.ts'], [
    ...forbid(above.base, ['queues', 'fleet', 'cli', 'program']),
    RUNS_BUT_TYPES,
  ]),
  layer(['src/lake/**', 'src/tmdb/**'], [...forbid(above.lakeTmdb, ['queues', 'fleet', 'cli', 'program']), RUNS_BUT_TYPES, WORKER_INTERNALS]),
  layer(['src/runs/**', 'src/jobs/**', 'src/queues.ts', 'src/fleet.ts'], [...forbid(above.state, ['cli', 'program']), WORKER_INTERNALS], ['src/runs/types.ts']),
  layer(['src/producers/**'], [...forbid(above.producers, ['cli', 'program']), WORKER_INTERNALS]),
  layer(['src/workers/**'], forbid(above.workers, ['cli', 'program'])),
  layer(['src/report/**'], [...forbid(above.report, ['cli', 'program']), WORKER_INTERNALS]),
  layer(['src/dashboard/**'], [...forbid(above.dashboard, ['cli', 'program']), WORKER_INTERNALS]),
  layer(['src/commands/**', 'src/cli.ts', 'src/program.ts'], [WORKER_INTERNALS], [], true),
  layer(['src/sandbox/**'], [FLEET], [], true),
);
