/**
 * pino logger with secret redaction. Two layers: known secret-bearing paths are redacted
 * (`authorization` headers, tokens, passwords), and every line is scrubbed, right before it is
 * written, of the literal values of configured secrets and of `api_key=` query values — so a
 * secret that slips into an error message or a URL is still never printed.
 */
import { pino, type Logger, type DestinationStream } from 'pino';
import { Writable } from 'node:stream';
import pretty from 'pino-pretty';
import type { Config } from './config.js';
import { stderrIsTerminal, writeStderr } from './terminal.js';

export type { Logger };

const REDACT_PATHS = [
  'authorization',
  'headers.authorization',
  '*.headers.authorization',
  'req.headers.authorization',
  'token',
  '*.token',
  'password',
  '*.password',
  'secretAccessKey',
  '*.secretAccessKey',
  'accessKeyId',
  '*.accessKeyId',
];

/** The password in a redis:// or rediss:// URL, if any. */
function redisPassword(url: string): string | undefined {
  try {
    const password = new URL(url).password;
    return password ? decodeURIComponent(password) : undefined;
  } catch {
    return undefined;
  }
}

/** The literal secret values in a config (TMDB token/key, AWS keys, dashboard and Redis passwords). */
export function secretValues(config: Config): string[] {
  const values: (string | undefined)[] = [
    config.tmdb.credential?.kind === 'bearer' ? config.tmdb.credential.token : undefined,
    config.tmdb.credential?.kind === 'api_key' ? config.tmdb.credential.key : undefined,
    config.lake.kind === 's3' ? config.lake.credentials?.accessKeyId : undefined,
    config.lake.kind === 's3' ? config.lake.credentials?.secretAccessKey : undefined,
    config.dashboard.auth?.password,
    config.sync?.webhookSecret,
    redisPassword(config.redis.url),
  ];
  return values.filter((v): v is string => typeof v === 'string' && v.length >= 4);
}

/**
 * Replaces every occurrence of the given secrets, `api_key=…` query values and `Bearer …`
 * credentials in a string with `[REDACTED]`.
 */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    out = out.split(secret).join('[REDACTED]');
    // Inside a JSON line the secret appears escaped (quotes, backslashes, control characters).
    const escaped = JSON.stringify(secret).slice(1, -1);
    if (escaped !== secret) out = out.split(escaped).join('[REDACTED]');
  }
  return out
    .replace(/(api_key=)[^&\s"']+/gi, '$1[REDACTED]')
    .replace(/(Bearer\s+)[A-Za-z0-9._~+/=-]+/g, '$1[REDACTED]');
}

/**
 * Creates the process logger on stderr (stdout stays for command output): JSON lines, or — on a
 * terminal — human lines by pino-pretty, printed above any progress bar (`terminal.ts`), at
 * `warn` unless LOG_LEVEL says otherwise.
 * @param destination - where lines go; defaults to stderr as above.
 */
export function createLogger(
  config: Pick<Config, 'logLevel'> & Partial<Config>,
  destination?: DestinationStream,
): Logger {
  const secrets = 'tmdb' in config && config.tmdb ? secretValues(config as Config) : [];
  const human = destination === undefined && stderrIsTerminal();
  return pino(
    {
      level: human && !config.logLevelSet ? 'warn' : config.logLevel,
      base: { pid: process.pid },
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      hooks: { streamWrite: (line) => scrubSecrets(line, secrets) },
    },
    destination ??
      (human
        ? pretty({ colorize: true, sync: true, ignore: 'pid,hostname', translateTime: 'SYS:HH:MM:ss', destination: new Writable({ write: (chunk: Buffer, _encoding, done) => done(void writeStderr(chunk.toString())) }) })
        : pino.destination({ fd: 2, sync: false })),
  );
}
