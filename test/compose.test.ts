/**
 * Keeps docker-compose.yml, .env.example and the Dockerfile honest against the code and the
 * images they name: every command a fleet container runs is a real CLI subcommand with real
 * options, every variable it sets is one the config reads, every image is pinned to a version,
 * every healthcheck runs a binary its image ships, and the worker outlives its shutdown deadline.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildProgram } from '../src/program.js';
import { CONFIG_VARIABLES, SECRET_VARIABLES } from '../src/config.js';
import { SHUTDOWN_DEADLINE_MS } from '../src/workers/index.js';

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

/** An image reference split into repository (without docker.io/ or library/), tag and digest. */
function parseImage(ref: string): { repo: string; tag?: string; digest?: string } {
  const at = ref.indexOf('@');
  const name = at < 0 ? ref : ref.slice(0, at);
  const digest = at < 0 ? undefined : ref.slice(at + 1);
  const colon = name.lastIndexOf(':');
  const hasTag = colon > name.lastIndexOf('/');
  const repo = (hasTag ? name.slice(0, colon) : name).replace(/^docker\.io\//, '').replace(/^library\//, '');
  return { repo, tag: hasTag ? name.slice(colon + 1) : undefined, digest };
}

/**
 * Projects whose every release is numbered MAJOR.MINOR (SeaweedFS 4.48): a two-part tag is one
 * release there. Every other image needs MAJOR.MINOR.PATCH, so `redis:7.4` (a moving tag) fails.
 */
const TWO_PART_RELEASES = new Set(['chrislusf/seaweedfs']);

/** Why `ref` is not pinned to one release, or undefined when it is. */
function imagePinProblem(ref: string): string | undefined {
  const { repo, tag } = parseImage(ref);
  if (tag === undefined) return `${ref} has no tag`;
  if (tag === 'latest') return `${ref} is latest`;
  const version = /^v?(\d+(?:\.\d+)*)(?:-[A-Za-z0-9][A-Za-z0-9.-]*)?$/.exec(tag);
  if (!version) return `${ref}: tag ${tag} is not a version`;
  const parts = (version[1] ?? '').split('.').length;
  const needed = TWO_PART_RELEASES.has(repo) ? 2 : 3;
  if (parts < needed) return `${ref}: tag ${tag} floats (want ${needed === 3 ? 'MAJOR.MINOR.PATCH' : 'MAJOR.MINOR'})`;
  return undefined;
}

/**
 * The binaries each pulled image ships, as its Dockerfile documents them. A healthcheck or an
 * overridden entrypoint may only run these; a new image must be added here first.
 */
const IMAGE_BINARIES: Record<string, { binaries: readonly string[]; source: string }> = {
  redis: {
    binaries: ['redis-server', 'redis-cli', 'sh', 'grep'],
    source: 'official image, Debian bookworm base: redis-server and redis-cli; sh and grep are Essential in Debian',
  },
  'chrislusf/seaweedfs': {
    binaries: ['weed', 'sh', 'wget'],
    source: 'docker/Dockerfile.go_build: Alpine base (BusyBox sh and wget applets), /usr/bin/weed',
  },
  'amazon/aws-cli': {
    binaries: ['aws', 'sh'],
    source: 'Amazon Linux base with bash as /bin/sh, ENTRYPOINT aws',
  },
};

/** Shell builtins a CMD-SHELL healthcheck may use besides the image's binaries. */
const SHELL_BUILTINS = new Set(['exit', 'true', 'false', 'test', '[', 'echo']);

/** The programs a healthcheck `test` runs: CMD's first word, or each command of a CMD-SHELL line. */
function healthcheckBinaries(test: unknown): string[] {
  const words = Array.isArray(test) ? test.map(String) : typeof test === 'string' ? ['CMD-SHELL', test] : [];
  const [kind, ...rest] = words;
  if (kind === 'CMD') return rest[0] === undefined ? [] : [path.posix.basename(rest[0])];
  if (kind !== 'CMD-SHELL') throw new Error(`healthcheck test must start with CMD or CMD-SHELL, not ${String(kind)}`);
  const programs = rest
    .join(' ')
    .split(/\|\||&&|[|;]/)
    .map((part) => part.trim().split(/\s+/).find((word) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(word)))
    .filter((word): word is string => word !== undefined && word !== '')
    .map((word) => path.posix.basename(word))
    .filter((word) => !SHELL_BUILTINS.has(word));
  return ['sh', ...programs];
}

/** A compose duration (`30s`, `1m30s`, `500ms`) in ms. */
function durationMs(value: unknown): number {
  const text = String(value);
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1, us: 0.001 };
  let total = 0;
  let consumed = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(h|ms|us|m|s)/g)) {
    if (m.index !== consumed) break;
    total += Number(m[1]) * (units[m[2] ?? ''] ?? Number.NaN);
    consumed += m[0].length;
  }
  if (consumed !== text.length || consumed === 0) throw new Error(`not a compose duration: ${text}`);
  return total;
}

/** `${NAME:-default}` → default, as compose interpolates when NAME is unset or empty. */
function withDefaults(text: string): string {
  return text.replace(/\$\{[A-Za-z_][A-Za-z0-9_]*:-([^}]*)\}/g, (_m, fallback: string) => fallback);
}

function loadComposeDocument(): Record<string, unknown> {
  const doc: unknown = parse(read('docker-compose.yml'), { merge: true });
  if (!isRecord(doc)) throw new Error('docker-compose.yml is not a mapping');
  return doc;
}

const services = loadCompose();
const fleet = fleetServices(services);
const builtImages = new Set(fleet.map(([, s]) => s.image));
const pulled = Object.entries(services).filter(([, s]) => !builtImages.has(s.image)) as [string, Service][];
const program: Command = buildProgram();

describe('the compose checks themselves', () => {
  it.each([
    ['redis', 'has no tag'],
    ['redis:latest', 'is latest'],
    ['redis:7', 'floats'],
    ['redis:7-alpine', 'floats'],
    ['redis:7.4', 'floats'],
    ['redis:alpine', 'not a version'],
    ['chrislusf/seaweedfs:4', 'floats'],
    ['chrislusf/seaweedfs:latest', 'is latest'],
    ['minio/minio', 'has no tag'],
    ['localhost:5000/redis', 'has no tag'],
  ])('rejects %s', (ref, why) => {
    expect(imagePinProblem(ref)).toMatch(why);
  });

  it.each(['redis:7.4.11', 'redis:7.4.11-alpine', 'docker.io/library/redis:7.4.11', 'chrislusf/seaweedfs:4.48', 'amazon/aws-cli:2.37.9', 'node:24.21.0-slim', 'localhost:5000/redis:7.4.11@sha256:0000'])(
    'accepts %s',
    (ref) => {
      expect(imagePinProblem(ref)).toBeUndefined();
    },
  );

  it('reads the programs of CMD and CMD-SHELL healthchecks', () => {
    expect(healthcheckBinaries(['CMD', 'wget', '-q', 'http://127.0.0.1/'])).toEqual(['wget']);
    expect(healthcheckBinaries(['CMD', '/usr/bin/redis-cli', 'ping'])).toEqual(['redis-cli']);
    expect(healthcheckBinaries(['CMD-SHELL', 'redis-cli ping | grep -q PONG'])).toEqual(['sh', 'redis-cli', 'grep']);
    expect(healthcheckBinaries('curl -f http://x/ || exit 1')).toEqual(['sh', 'curl']);
    expect(healthcheckBinaries(['CMD-SHELL', 'X=1 wget -q -O- http://x/ && nc -z x 1'])).toEqual(['sh', 'wget', 'nc']);
    expect(() => healthcheckBinaries(['NONE'])).toThrow();
  });

  it('reads compose durations', () => {
    expect(durationMs('30s')).toBe(30_000);
    expect(durationMs('1m30s')).toBe(90_000);
    expect(durationMs('500ms')).toBe(500);
    expect(() => durationMs('10')).toThrow();
    expect(() => durationMs('30 s')).toThrow();
  });
});

describe('docker-compose.yml', () => {
  it('has the fleet services, built from this repository', () => {
    expect(Object.keys(services)).toEqual(expect.arrayContaining(['redis', 'seaweedfs', 'bucket-init', 'worker', 'dashboard']));
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

  it('fleet services point at the compose redis and seaweedfs', () => {
    for (const [, service] of fleet) {
      const env = environmentOf(service);
      expect(env.REDIS_URL).toBe('redis://redis:6379');
      expect(env.S3_BUCKET).toBe('tmdb-lake');
      expect(env.AWS_ENDPOINT_URL_S3).toBe('http://seaweedfs:8333');
      expect(env.S3_FORCE_PATH_STYLE).toBe('true');
    }
  });

  it('runs redis with AOF fsynced on every write and without eviction', () => {
    const command = commandOf(services.redis ?? {});
    const option = (name: string) => {
      const at = command.indexOf(name);
      expect(at, `redis runs without ${name}`).toBeGreaterThanOrEqual(0);
      return command[at + 1];
    };
    expect(option('--appendonly')).toBe('yes');
    // The fault suite's exactly-once guarantees are proven with appendfsync always.
    expect(option('--appendfsync')).toBe('always');
    expect(option('--maxmemory-policy')).toBe('noeviction');
    expect(services.redis?.healthcheck).toBeDefined();
  });

  it.each(Object.entries(services))('%s pins its image to one release, and none is MinIO', (_name, service) => {
    const image = String(service.image);
    expect(image).not.toMatch(/minio/i);
    if (builtImages.has(service.image)) return;
    expect(imagePinProblem(image)).toBeUndefined();
  });

  it('names MinIO nowhere in compose, .env.example, the Dockerfile or the README', () => {
    for (const file of ['docker-compose.yml', '.env.example', 'Dockerfile', 'README.md']) {
      const lines = read(file)
        .split('\n')
        .map((line, i) => `${file}:${i + 1}: ${line}`)
        .filter((line) => /minio/i.test(line));
      expect(lines).toEqual([]);
    }
  });

  it.each(pulled)('%s runs only binaries its image ships (healthcheck, entrypoint)', (name, service) => {
    const { repo } = parseImage(String(service.image));
    const documented = IMAGE_BINARIES[repo];
    expect(documented, `${repo}: document the binaries it ships in IMAGE_BINARIES`).toBeDefined();
    const allowed = new Set(documented?.binaries ?? []);
    const used: string[] = [];
    if (isRecord(service.healthcheck)) used.push(...healthcheckBinaries(service.healthcheck.test));
    const entrypoint = Array.isArray(service.entrypoint) ? service.entrypoint.map(String) : [];
    if (entrypoint[0] !== undefined) used.push(path.posix.basename(entrypoint[0]));
    for (const binary of used) {
      expect(allowed, `${name} runs ${binary}; ${repo} ships ${[...allowed].join(', ')} (${documented?.source})`).toContain(binary);
    }
  });

  it('README names every pinned image, so its version list cannot go stale', () => {
    const readme = read('README.md');
    const dockerfileImages = read('Dockerfile')
      .split('\n')
      .filter((l) => /^FROM\s/i.test(l.trim()))
      .map((l) => l.trim().split(/\s+/)[1] ?? '');
    for (const image of [...pulled.map(([, s]) => String(s.image)), ...dockerfileImages]) {
      expect(readme.includes(`\`${image}\``), `README does not name ${image}`).toBe(true);
    }
  });

  it('health-checks every service that others wait on, and the long-running non-fleet ones', () => {
    const waitedOn = new Set<string>();
    for (const service of Object.values(services)) {
      if (!isRecord(service.depends_on)) continue;
      for (const [dep, how] of Object.entries(service.depends_on)) {
        if (isRecord(how) && how.condition === 'service_healthy') waitedOn.add(dep);
      }
    }
    for (const name of ['redis', 'seaweedfs', ...waitedOn]) {
      const healthcheck = services[name]?.healthcheck;
      expect(isRecord(healthcheck) && healthcheck.test !== undefined, `${name} has no healthcheck`).toBe(true);
    }
  });

  it('gives the worker longer to stop than its shutdown deadline', () => {
    const grace = durationMs(services.worker?.stop_grace_period ?? '10s');
    expect(grace).toBeGreaterThan(SHUTDOWN_DEADLINE_MS);
    // Past the deadline the worker still force-closes its jobs and its connections.
    expect(grace).toBeGreaterThanOrEqual(SHUTDOWN_DEADLINE_MS + 5_000);
  });

  it('gives SeaweedFS the keys the fleet and bucket-init use, and creates the fleet bucket', () => {
    const doc = loadComposeDocument();
    const configs = isRecord(doc.configs) ? doc.configs : {};
    const seaweedfs = services.seaweedfs ?? {};
    const mounts = (Array.isArray(seaweedfs.configs) ? seaweedfs.configs : []).filter(isRecord);
    const s3Mount = mounts.find((m) => m.source === 'seaweedfs-s3');
    expect(s3Mount, 'seaweedfs mounts the seaweedfs-s3 config').toBeDefined();
    expect(commandOf(seaweedfs)).toContain(`-s3.config=${String(s3Mount?.target)}`);
    const s3Config = configs['seaweedfs-s3'];
    expect(isRecord(s3Config) && typeof s3Config.content === 'string').toBe(true);
    const identities = (JSON.parse(withDefaults(isRecord(s3Config) ? String(s3Config.content) : '{}')) as {
      identities?: { credentials?: { accessKey: string; secretKey: string }[]; actions?: string[] }[];
    }).identities ?? [];
    for (const user of [...fleet.map(([, s]) => s), services['bucket-init'] ?? {}]) {
      const env = environmentOf(user);
      const key = withDefaults(env.AWS_ACCESS_KEY_ID ?? '');
      const secret = withDefaults(env.AWS_SECRET_ACCESS_KEY ?? '');
      expect(key).not.toBe('');
      const identity = identities.find((i) => i.credentials?.some((c) => c.accessKey === key && c.secretKey === secret));
      expect(identity, `no SeaweedFS identity holds ${key}`).toBeDefined();
      expect(identity?.actions).toEqual(expect.arrayContaining(['Admin']));
    }
    const init = services['bucket-init'] ?? {};
    expect(environmentOf(init).AWS_ENDPOINT_URL_S3).toBe('http://seaweedfs:8333');
    const script = (Array.isArray(init.entrypoint) ? init.entrypoint : []).map(String).join('\n');
    expect(script).toMatch(/create-bucket --bucket tmdb-lake\b/);
    expect(init.restart).toBe('no');
    expect(init.depends_on).toEqual({ seaweedfs: { condition: 'service_healthy' } });
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
      expect(dependsOn['bucket-init']).toEqual({ condition: 'service_completed_successfully' });
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

  it('is multi-stage on one Node 24 slim release, pinned', () => {
    const froms = instructions.filter((l) => /^FROM\s/i.test(l)).map((l) => l.split(/\s+/)[1] ?? '');
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const image of froms) {
      expect(imagePinProblem(image)).toBeUndefined();
      expect(image).toMatch(/^node:24\.\d+\.\d+-slim$/);
    }
    expect(new Set(froms).size).toBe(1);
    // A `# syntax=` directive pulls a frontend image: none, or a pinned one.
    const syntax = /^#\s*syntax=(\S+)/m.exec(text);
    if (syntax) expect(imagePinProblem(syntax[1] ?? '')).toBeUndefined();
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
