/**
 * `tmdb-fleet` with a bench limiter: the real CLI (`src/cli.ts` main), run after
 * {@link installBenchLimiter} has swapped the fleet-wide limiter for the library named by
 * BENCH_LIMITER (`bottleneck` or `rate-limiter-flexible`, see fleet-limiters.ts). The bench
 * starts the fleet's workers and its CLI through this file for the limiter variants:
 * `node dist/bench/fleet-cli.js worker`, `… backfill movie --wait --json`.
 */
import { main } from '../src/program.js';
import { installBenchLimiter } from './fleet-limiters.js';

installBenchLimiter(process.env.BENCH_LIMITER ?? '');
void main();
