/** `tmdb-fleet dashboard [--port N]`: Bull Board, /healthz, /metrics and the S3 event webhook. */
import { Command } from 'commander';
import type { GetConfig } from './private-redis.js';
import { openFleet } from '../fleet.js';
import { createLogger } from '../log.js';
import { SHUTDOWN_DEADLINE_MS } from '../workers/index.js';
import { port } from './options.js';
import { onShutdown } from './shutdown.js';

/** The `dashboard` command. */
export function dashboardCommand(getConfig: GetConfig): Command {
  return new Command('dashboard')
    .description('serve Bull Board over every queue, /healthz and /metrics')
    .option('--port <port>', 'TCP port (default DASHBOARD_PORT)', port)
    .action(async (opts: { port?: number }) => {
      const cfg = await getConfig();
      const log = createLogger(cfg);
      const fleet = openFleet(cfg, log, 'worker');
      // Express and Bull Board load only for the dashboard, not for every command.
      const { startDashboard } = await import('../dashboard/server.js');
      const dashboard = await startDashboard(fleet, {
        host: cfg.dashboard.host,
        port: opts.port ?? cfg.dashboard.port,
        auth: cfg.dashboard.auth,
        readOnly: cfg.dashboard.readOnly,
        webhookSecret: cfg.sync.webhookSecret,
      }).catch(async (err: unknown) => {
        await fleet.close();
        throw err;
      });
      log.info({ url: dashboard.url }, 'dashboard listening');
      process.stderr.write(`tmdb-fleet: dashboard at ${dashboard.url}\n`);
      onShutdown(async () => {
        await dashboard.close();
        await fleet.close();
      }, SHUTDOWN_DEADLINE_MS);
    });
}
