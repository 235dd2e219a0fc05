/**
 * What the fleet needs to know about its Redis server, read with `INFO server` and `INFO memory`:
 * its version and its `maxmemory-policy`. BullMQ needs `noeviction` (an evicted job or lock
 * key loses work silently); BullMQ itself only prints a warning at connect when it is not.
 */
import type { Redis } from 'ioredis';

/** The eviction policy the fleet requires. */
export const REQUIRED_EVICTION_POLICY = 'noeviction';

/** A Redis server's name and version and its `maxmemory_policy`. */
export interface RedisServerInfo {
  /** e.g. `Redis 7.0.15`, `Valkey 8.0.1` (from `redis_version`, or Valkey's or Dragonfly's own field) */
  version: string;
  maxmemoryPolicy: string;
}

/**
 * Reads the server's version and eviction policy.
 * @throws the connection's error when Redis cannot be reached (guard it with a RedisWatch).
 */
export async function redisServerInfo(redis: Redis): Promise<RedisServerInfo> {
  const text = `${await redis.info('server')}\n${await redis.info('memory')}`;
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) fields.set(line.slice(0, at), line.slice(at + 1).trim());
  }
  return {
    version: fields.has('valkey_version')
      ? `Valkey ${fields.get('valkey_version')}`
      : fields.has('dragonfly_version')
        ? `Dragonfly ${fields.get('dragonfly_version')}`
        : `Redis ${fields.get('redis_version') ?? 'of unknown version'}`,
    maxmemoryPolicy: fields.get('maxmemory_policy') ?? 'unknown',
  };
}
