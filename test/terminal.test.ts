/**
 * A terminal that stays clean: `backfill --wait --workers 2` in a real pseudo-terminal (tmux)
 * ends on a screen with the bar at 100 % and the summary, no JSON log line drawn over them; and
 * `--wait` with no worker says so once instead of counting 0/N forever.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { cliArgs, startCli } from './support/fleet-process.js';
import { useFleetHarness } from './support/harness.js';

const h = useFleetHarness({ tmdb: { movie: { count: 600, from: '2021-01-01', to: '2021-03-31', seed: 3 }, latencyMs: 5 } });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it('ends a backfill --wait --workers 2 in a terminal on a clean screen: the bar at 100 %, then the summary', async () => {
  const e = h.env({ TMDB_RATE_LIMIT_RPS: '150' });
  delete e.LOG_LEVEL;
  const dir = mkdtempSync(path.join(tmpdir(), 'tmdb-fleet-tty-'));
  const script = path.join(dir, 'run.sh');
  const exports = Object.entries(e).map(([k, v]) => `export ${k}='${v}'`).join('\n');
  const command = [process.execPath, ...cliArgs('backfill', 'movie', '--from', '2021-01-01', '--to', '2021-03-31', '--wait', '--workers', '2')]
    .map((a) => `'${a}'`)
    .join(' ');
  writeFileSync(script, `${exports}\nunset LOG_LEVEL\n${command}\necho "exit=$?" > ${dir}/code\nsleep 30\n`);
  const session = `tmdb-fleet-${process.pid}`;
  execFileSync('tmux', ['new-session', '-d', '-s', session, '-x', '120', '-y', '40', `sh ${script}`]);
  try {
    let code = '';
    for (let i = 0; i < 240 && code === ''; i++) {
      await sleep(250);
      code = (() => {
        try {
          return readFileSync(path.join(dir, 'code'), 'utf8').trim();
        } catch {
          return '';
        }
      })();
    }
    const screen = execFileSync('tmux', ['capture-pane', '-p', '-t', session], { encoding: 'utf8' });
    writeFileSync(path.join(dir, 'screen.txt'), screen);
    expect(code, screen).toBe('exit=0');
    const lines = screen.split('\n').filter((l) => l.trim() !== '');
    // The bar's last frame, at 100 %, then the summary; no JSON log line anywhere.
    expect(screen, screen).toMatch(/100% \| 600\/600 titles .*\| ETA done \| objects \d+ \| completed/);
    expect(screen).not.toContain('{"level"');
    const runLine = lines.findIndex((l) => /^run movie-\S+ \(movie\) completed$/.test(l));
    expect(runLine, screen).toBeGreaterThan(0);
    expect(lines[runLine - 1], screen).toMatch(/100% \|/);
    expect(lines.slice(runLine + 1).join('\n'), screen).toMatch(/^ {2}titles: 600 discovered, 600 fetched/);
  } finally {
    execFileSync('tmux', ['kill-session', '-t', session]);
  }
});

it('says once, within 15 s, that no worker consumes the run, instead of counting 0/N forever', async () => {
  const e = h.env();
  const cli = startCli(['backfill', 'movie', '--from', '2021-01-01', '--to', '2021-01-31', '--wait'], e);
  try {
    const started = Date.now();
    while (!cli.stderr().includes('no worker is consuming') && Date.now() - started < 20_000) await sleep(200);
    expect(Date.now() - started).toBeLessThan(15_000);
    await sleep(3_000);
    expect(cli.stderr().match(/no worker is consuming run movie-\S+'s queues: start workers \(tmdb-fleet worker\) or pass --workers N/g)).toHaveLength(1);
  } finally {
    cli.child.kill('SIGKILL');
    await cli.result;
  }
});
