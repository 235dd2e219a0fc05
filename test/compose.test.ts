/**
 * Keeps docker-compose.yml, .env.example and the Dockerfile honest against the code: every
 * command a fleet container runs is a real CLI subcommand with real options, and every variable
 * it sets is one the config reads.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildProgram } from '../src/cli.js';
import { CONFIG_VARIABLES, SECRET_VARIABLES } from '../src/config.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

type Service = Record<string, unknown>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function loadCompose(): Record<string, Service> {
  const doc: unknown = parse(read('docker-compose.yml'), { merge: true });
  if (!isRecord(doc) || !isRecord(doc.services)) throw new Error('docker-compose.yml has no services');
  const services: Record<string, Service> = {};
  for (const [name, service] of Object.entries(doc.services)) {
    if (!isRecord(service)) throw new Error(`service ${name} is not a mapping`);
    services[name] = service;
  }
  return services;
}

/** `environment` as a map, whether written as a mapping or as a list of NAME=value. */
function environmentOf(service: Service): Record<string, string> {
  const env = service.environment;
  if (env === undefined) return {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((entry) => {
        const text = String(entry);
        const eq = text.indexOf('=');
        return eq < 0 ? [text, ''] : [text.slice(0, eq), text.slice(eq + 1)];
      }),
    );
  }
  if (!isRecord(env)) throw new Error('environment is neither a mapping nor a list');
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

function commandOf(service: Service): string[] {
  const command = service.command;
  if (!Array.isArray(command)) throw new Error('command must be an exec-form array');
  return command.map(String);
}

/** Services that run this repository's image (built here, or sharing the built image's tag). */
function fleetServices(services: Record<string, Service>): [string, Service][] {
  const builtImages = new Set(
    Object.values(services)
      .filter((s) => s.build !== undefined && typeof s.image === 'string')
      .map((s) => s.image),
  );
  return Object.entries(services).filter(
    ([, s]) => s.build !== undefined || (typeof s.image === 'string' && builtImages.has(s.image)),
  );
}

const services = loadCompose();
const fleet = fleetServices(services);
const program: Command = buildProgram();

describe('docker-compose.yml', () => {
  it('has the fleet services, built from this repository', () => {
    expect(Object.keys(services)).toEqual(expect.arrayContaining(['redis', 'minio', 'minio-init', 'worker', 'dashboard']));
    expect(fleet.map(([name]) => name).sort()).toEqual(expect.arrayContaining(['dashboard', 'worker']));
  });

  it.each(fleet)('%s runs a real CLI subcommand with real options', (_name, service) => {
    const [sub, ...rest] = commandOf(service);
    const subcommands = program.commands.map((c) => c.name());
    expect(subcommands).toContain(sub);
    const cmd = program.commands.find((c) => c.name() === sub);
    const longs = new Set(cmd?.options.map((o) => o.long) ?? []);
    const shorts = new Set(cmd?.options.map((o) => o.short).filter((s) => s !== undefined) ?? []);
    for (const arg of rest) {
      if (arg.startsWith('--')) expect(longs, `${sub} has no option ${arg}`).toContain(arg.split('=')[0]);
      else if (/^-[A-Za-z]$/.test(arg)) expect(shorts, `${sub} has no option ${arg}`).toContain(arg);
    }
  });

  it.each(fleet)('%s sets only variables the config reads', (_name, service) => {
    const names = Object.keys(environmentOf(service));
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect(CONFIG_VARIABLES, `${name} is not read by src/config.ts`).toContain(name);
  });

  it('fleet services point at the compose redis and minio', () => {
    for (const [, service] of fleet) {
      const env = environmentOf(service);
      expect(env.REDIS_URL).toBe('redis://redis:6379');
      expect(env.S3_BUCKET).toBe('tmdb-lake');
      expect(env.AWS_ENDPOINT_URL_S3).toBe('http://minio:9000');
      expect(env.S3_FORCE_PATH_STYLE).toBe('true');
    }
  });

  it('runs redis with AOF on and without eviction', () => {
    const command = commandOf(services.redis ?? {});
    const aof = command.indexOf('--appendonly');
    expect(aof).toBeGreaterThanOrEqual(0);
    expect(command[aof + 1]).toBe('yes');
    const policy = command.indexOf('--maxmemory-policy');
    expect(command[policy + 1]).toBe('noeviction');
    expect(services.redis?.healthcheck).toBeDefined();
  });

  it('lets the worker scale: no container_name, no fixed host port', () => {
    const worker = services.worker ?? {};
    expect(commandOf(worker)[0]).toBe('worker');
    expect(worker.container_name).toBeUndefined();
    expect(worker.ports).toBeUndefined();
  });

  it('binds the dashboard beyond loopback only with basic auth set', () => {
    const dashboard = services.dashboard ?? {};
    expect(commandOf(dashboard)[0]).toBe('dashboard');
    const env = environmentOf(dashboard);
    const host = env.DASHBOARD_HOST ?? '127.0.0.1';
    if (!['127.0.0.1', '::1', 'localhost'].includes(host)) {
      expect(env.DASHBOARD_USER ?? '').not.toBe('');
      expect(env.DASHBOARD_PASSWORD ?? '').not.toBe('');
    }
    const ports = (Array.isArray(dashboard.ports) ? dashboard.ports : []).map(String);
    expect(ports.length).toBeGreaterThan(0);
    for (const port of ports) expect(port).toMatch(/^127\.0\.0\.1:/);
  });

  it('starts fleet services only after redis is healthy and the bucket exists', () => {
    for (const [, service] of fleet) {
      const dependsOn = service.depends_on;
      expect(isRecord(dependsOn)).toBe(true);
      if (!isRecord(dependsOn)) continue;
      expect(dependsOn.redis).toEqual({ condition: 'service_healthy' });
      expect(dependsOn['minio-init']).toEqual({ condition: 'service_completed_successfully' });
    }
  });
});

describe('.env.example', () => {
  const lines = read('.env.example').split('\n');
  const entries = lines
    .map((line, index) => ({ line: line.trim(), index }))
    .filter(({ line }) => line !== '' && !line.startsWith('#'));

  it('lists every variable the config reads, and nothing else', () => {
    const names = entries.map(({ line }) => line.split('=')[0]);
    for (const { line } of entries) expect(line).toMatch(/^[A-Z][A-Z0-9_]*=/);
    expect(new Set(names).size).toBe(names.length);
    expect([...names].sort()).toEqual([...CONFIG_VARIABLES].sort());
    expect(names[0]).toBe('TMDB_ACCESS_TOKEN');
  });

  it('documents each variable with a comment line and leaves secrets empty', () => {
    for (const { line, index } of entries) {
      expect(lines[index - 1]?.trim().startsWith('#'), `no comment above ${line}`).toBe(true);
      const [name, ...value] = line.split('=');
      if ((SECRET_VARIABLES as readonly string[]).includes(name ?? '')) expect(value.join('=')).toBe('');
    }
  });
});

describe('Dockerfile', () => {
  const text = read('Dockerfile');
  const instructions = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

  it('is multi-stage on node:24-slim', () => {
    const froms = instructions.filter((l) => /^FROM\s/i.test(l));
    expect(froms.length).toBeGreaterThanOrEqual(2);
    expect(froms.some((l) => /^FROM\s+node:24-slim(\s|$)/i.test(l))).toBe(true);
  });

  it('runs as a non-root user', () => {
    const users = instructions.filter((l) => /^USER\s/i.test(l));
    expect(users.length).toBeGreaterThan(0);
    const last = users.at(-1)?.split(/\s+/)[1] ?? '';
    expect(['root', '0', '0:0']).not.toContain(last);
  });

  it('runs the CLI, a worker by default', () => {
    expect(instructions).toContain('ENTRYPOINT ["node", "--max-semi-space-size=2", "dist/src/cli.js"]');
    expect(instructions).toContain('CMD ["worker"]');
    expect(instructions).toContain('ENV NODE_ENV=production');
  });
});
