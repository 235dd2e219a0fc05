/**
 * Configuration as a user meets it: defaults when nothing is set, and for every bad value one
 * ConfigError whose message names the variable and what was expected, never a secret value.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig, requireTmdbCredential } from '../src/config.js';
import { ConfigError } from '../src/errors.js';

/** The ConfigError loadConfig throws for `env` (fails the test when it does not throw one). */
function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig defaults', () => {
  const config = loadConfig({});

  it.each([
    ['REDIS_URL', config.redis.url, 'redis://127.0.0.1:6379'],
    ['REDIS_WAIT_MS', config.redis.waitMs, 60_000],
    ['TMDB_FLEET_HOME', config.home, './.tmdb-fleet'],
    ['TMDB_API_BASE_URL', config.tmdb.baseUrl, 'https://api.themoviedb.org/3'],
    ['TMDB_FILES_BASE_URL', config.tmdb.filesBaseUrl, 'https://files.tmdb.org'],
    ['TMDB_RATE_LIMIT_RPS', config.tmdb.rateLimitRps, 40],
    ['S3_PREFIX', config.lake.prefix, 'raw/tmdb'],
    ['BATCH_MAX_RECORDS', config.batch.maxRecords, 100],
    ['STAGING_MAX_RECORDS', config.batch.stagingMaxRecords, 5_000],
    ['LOG_LEVEL', config.logLevel, 'info'],
  ])('%s defaults to %s', (_name, actual, expected) => {
    expect(actual).toBe(expected);
  });

  it('writes to the local directory ./lake when S3_BUCKET is unset', () => {
    expect(config.lake).toEqual({ kind: 'local', dir: './lake', prefix: 'raw/tmdb' });
  });

  it('knows whether REDIS_URL was set (unset or empty: the private Redis may be used)', () => {
    expect(config.redis.urlSet).toBe(false);
    expect(loadConfig({ REDIS_URL: '' }).redis.urlSet).toBe(false);
    expect(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' }).redis.urlSet).toBe(true);
  });

  it('treats an empty S3_BUCKET as unset', () => {
    expect(loadConfig({ S3_BUCKET: '' }).lake.kind).toBe('local');
  });

  it('writes to S3 when S3_BUCKET is set', () => {
    const s3 = loadConfig({ S3_BUCKET: 'my-lake', AWS_ENDPOINT_URL_S3: 'http://seaweedfs:8333', S3_FORCE_PATH_STYLE: 'true' });
    expect(s3.lake).toMatchObject({
      kind: 's3',
      bucket: 'my-lake',
      prefix: 'raw/tmdb',
      endpoint: 'http://seaweedfs:8333',
      forcePathStyle: true,
      credentials: undefined,
    });
  });

  it('accepts the largest batch, 2,000 records, with a staging bound at least as large', () => {
    const c = loadConfig({ BATCH_MAX_RECORDS: '2000', STAGING_MAX_RECORDS: '2000' });
    expect([c.batch.maxRecords, c.batch.stagingMaxRecords]).toEqual([2_000, 2_000]);
  });

  it('has no TMDB credential and no dashboard auth unless asked', () => {
    expect(config.tmdb.credential).toBeUndefined();
    expect(config.dashboard.auth).toBeUndefined();
  });

  it('reads set values', () => {
    const c = loadConfig({
      TMDB_RATE_LIMIT_RPS: '2.5',
      BATCH_MAX_RECORDS: '7',
      S3_PREFIX: 'raw/x/y',
      TMDB_API_BASE_URL: 'http://127.0.0.1:9/3/',
      LOG_LEVEL: 'debug',
    });
    expect(c.tmdb.rateLimitRps).toBe(2.5);
    expect(c.batch.maxRecords).toBe(7);
    expect(c.lake.prefix).toBe('raw/x/y');
    expect(c.tmdb.baseUrl).toBe('http://127.0.0.1:9/3');
    expect(c.logLevel).toBe('debug');
  });
});

describe('loadConfig refuses bad values with a message naming the variable and the expectation', () => {
  const cases: { name: string; env: Record<string, string>; expectation: RegExp }[] = [
    { name: 'TMDB_RATE_LIMIT_RPS', env: { TMDB_RATE_LIMIT_RPS: 'fast' }, expectation: /expected a positive number/ },
    { name: 'TMDB_RATE_LIMIT_RPS', env: { TMDB_RATE_LIMIT_RPS: '0' }, expectation: /expected/ },
    { name: 'TMDB_RATE_LIMIT_RPS', env: { TMDB_RATE_LIMIT_RPS: '-5' }, expectation: /expected a positive number/ },
    { name: 'BATCH_MAX_RECORDS', env: { BATCH_MAX_RECORDS: '0' }, expectation: /expected/ },
    { name: 'BATCH_MAX_RECORDS', env: { BATCH_MAX_RECORDS: '2001' }, expectation: /expected at most 2000 records per object: one Redis script call builds a whole batch/ },
    { name: 'BATCH_MAX_RECORDS', env: { BATCH_MAX_RECORDS: '100000' }, expectation: /expected at most 2000 records per object/ },
    { name: 'STAGING_MAX_RECORDS', env: { STAGING_MAX_RECORDS: '0' }, expectation: /expected a whole number from 1/ },
    {
      name: 'STAGING_MAX_RECORDS',
      env: { BATCH_MAX_RECORDS: '500', STAGING_MAX_RECORDS: '499' },
      expectation: /STAGING_MAX_RECORDS="499": expected at least BATCH_MAX_RECORDS \(500\)/,
    },
    { name: 'S3_BUCKET', env: { S3_BUCKET: 'My_Bucket' }, expectation: /expected an S3 bucket name/ },
    { name: 'S3_BUCKET', env: { S3_BUCKET: 'ab' }, expectation: /expected an S3 bucket name/ },
    { name: 'S3_BUCKET', env: { S3_BUCKET: '-abc' }, expectation: /expected an S3 bucket name/ },
    { name: 'S3_BUCKET', env: { S3_BUCKET: 'abc-' }, expectation: /expected an S3 bucket name/ },
    { name: 'S3_BUCKET', env: { S3_BUCKET: 'a'.repeat(64) }, expectation: /expected an S3 bucket name/ },
    { name: 'S3_PREFIX', env: { S3_PREFIX: '/raw' }, expectation: /expected a relative key prefix/ },
    { name: 'S3_PREFIX', env: { S3_PREFIX: 'raw/../x' }, expectation: /expected a relative key prefix/ },
    { name: 'S3_PREFIX', env: { S3_PREFIX: 'raw/' }, expectation: /expected a relative key prefix/ },
    { name: 'REDIS_URL', env: { REDIS_URL: 'http://x' }, expectation: /expected a URL starting with redis:\/\// },
    { name: 'TMDB_FILES_BASE_URL', env: { TMDB_FILES_BASE_URL: 'files.tmdb.org' }, expectation: /expected a URL starting with http:\/\// },
    { name: 'REDIS_WAIT_MS', env: { REDIS_WAIT_MS: '1m' }, expectation: /expected a whole number from 0 to 86400000/ },
    { name: 'REDIS_WAIT_MS', env: { REDIS_WAIT_MS: '-1' }, expectation: /expected a whole number from 0 to 86400000/ },
    { name: 'LOG_LEVEL', env: { LOG_LEVEL: 'loud' }, expectation: /expected/ },
    { name: 'DASHBOARD_USER', env: { DASHBOARD_USER: 'admin' }, expectation: /DASHBOARD_PASSWORD: set both or neither/ },
    {
      name: 'DASHBOARD_PASSWORD',
      env: { DASHBOARD_PASSWORD: 'pw-SECRET-1' },
      expectation: /DASHBOARD_USER and DASHBOARD_PASSWORD: set both or neither/,
    },
  ];

  it.each(cases)('$name=$env', ({ name, env, expectation }) => {
    const err = configError(env);
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain(name);
    expect(err.message).toMatch(expectation);
  });

  it('shows the bad value of a non-secret variable', () => {
    expect(configError({ TMDB_RATE_LIMIT_RPS: 'fast' }).message).toContain('TMDB_RATE_LIMIT_RPS="fast"');
  });

  // S3 refuses these names too (general purpose bucket naming rules: no two adjacent periods,
  // not formatted as an IP address); HeadBucket would fail later with a less clear message.
  it.each(['a..b', '192.168.5.4'])('refuses the bucket name S3 refuses: %s', (bucket) => {
    const err = configError({ S3_BUCKET: bucket });
    expect(err.message).toContain('S3_BUCKET');
  });
});

describe('several bad variables at once', () => {
  it('give one ConfigError listing every one of them', () => {
    const err = configError({
      TMDB_RATE_LIMIT_RPS: '-1',
      BATCH_MAX_RECORDS: '0',
      S3_PREFIX: '/raw',
      REDIS_URL: 'http://x',
      LOG_LEVEL: 'loud',
    });
    for (const name of ['TMDB_RATE_LIMIT_RPS', 'BATCH_MAX_RECORDS', 'S3_PREFIX', 'REDIS_URL', 'LOG_LEVEL']) {
      expect(err.message).toContain(name);
    }
    // One line per bad variable after the heading.
    expect(err.message.split('\n').filter((l) => l.startsWith('  '))).toHaveLength(5);
  });

  it('list a half-set pair (DASHBOARD_USER without password) beside other bad variables', () => {
    const err = configError({ LOG_LEVEL: 'loud', DASHBOARD_USER: 'admin' });
    expect(err.message).toContain('LOG_LEVEL');
    expect(err.message).toContain('DASHBOARD_USER');
  });
});

describe('secrets never appear in a configuration error', () => {
  const secrets = {
    TMDB_ACCESS_TOKEN: 'tok-SECRET-abc123',
    TMDB_API_KEY: 'key-SECRET-777',
    DASHBOARD_PASSWORD: 'pw-SECRET-dash',
    AWS_SECRET_ACCESS_KEY: 'aws-SECRET-xyz',
  };

  it.each([
    ['beside other bad variables', { ...secrets, DASHBOARD_USER: 'admin', AWS_ACCESS_KEY_ID: 'AKIA1', LOG_LEVEL: 'loud', S3_PREFIX: '/x' }],
    ['when their own pairing is wrong', { ...secrets }],
    ['when only the secret half of a pair is set', { DASHBOARD_PASSWORD: secrets.DASHBOARD_PASSWORD, AWS_SECRET_ACCESS_KEY: secrets.AWS_SECRET_ACCESS_KEY }],
  ])('%s', (_label, env) => {
    const err = configError(env);
    for (const value of Object.values(secrets)) expect(err.message).not.toContain(value);
  });

  it('names a bad secret variable but hides its value', () => {
    const err = configError({
      TMDB_ACCESS_TOKEN: 'tok-SECRET-abc123',
      DASHBOARD_PASSWORD: 'pw-SECRET-dash',
      AWS_SECRET_ACCESS_KEY: 'aws-SECRET-xyz',
    });
    expect(err.message).toContain('DASHBOARD_PASSWORD');
    expect(err.message).toContain('AWS_SECRET_ACCESS_KEY');
    expect(err.message).not.toMatch(/-SECRET-/);
  });
});

describe('requireTmdbCredential', () => {
  it('names TMDB_ACCESS_TOKEN and TMDB_API_KEY when neither is set', () => {
    const config = loadConfig({});
    expect(() => requireTmdbCredential(config)).toThrow(ConfigError);
    expect(() => requireTmdbCredential(config)).toThrow(/TMDB_ACCESS_TOKEN/);
    expect(() => requireTmdbCredential(config)).toThrow(/TMDB_API_KEY/);
  });

  it.each([
    [{ TMDB_ACCESS_TOKEN: 'tok' }, { kind: 'bearer', token: 'tok' }],
    [{ TMDB_API_KEY: 'key' }, { kind: 'api_key', key: 'key' }],
    [{ TMDB_ACCESS_TOKEN: 'tok', TMDB_API_KEY: 'key' }, { kind: 'bearer', token: 'tok' }],
    [{ TMDB_ACCESS_TOKEN: '', TMDB_API_KEY: 'key' }, { kind: 'api_key', key: 'key' }],
  ])('%j → %j', (env, credential) => {
    expect(requireTmdbCredential(loadConfig(env))).toEqual(credential);
  });
});
