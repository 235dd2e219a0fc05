#!/usr/bin/env -S node --max-semi-space-size=2
/**
 * `tmdb-fleet`, the executable: the one entry point of every command and of the workers
 * (`program.ts` holds the program). The shebang gives Node a 2 MiB young generation
 * (`--max-semi-space-size=2`): the fleet's processes are I/O bound, and a small nursery keeps
 * their memory flat (a 300 MB upload peaks under 150 MiB; see README, "Uploading local files").
 *
 * Before anything else it turns on Node's module compile cache (Node ≥ 22.1,
 * `module.enableCompileCache`; under the OS temp directory, or NODE_COMPILE_CACHE; off with
 * NODE_DISABLE_COMPILE_CACHE=1): every later start reuses the compiled code of the fleet and its
 * libraries (BullMQ, the AWS SDK), which takes a command's start from ~0.5 s to ~0.4 s of
 * loading. Nothing is cached where the directory cannot be written; the command runs the same.
 */
import module from 'node:module';

(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
const { start } = await import('./program.js');
start();
