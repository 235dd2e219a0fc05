/**
 * An {@link ObjectStore} that counts its writes: the time of every `put`, `putIfAbsent` and
 * `putStream` (S3 PutObject — conditional for data objects — or multipart upload, SDK retries
 * included; a local write) and the bytes that went into the lake (none when a create-only
 * write found its key taken). Everything else passes through untouched.
 */
import type { ProcessMetrics } from '../metrics/process.js';
import type { ObjectStore } from './store.js';

/** Wraps `store` so its writes are recorded in `metrics`. */
export function meteredStore(store: ObjectStore, metrics: ProcessMetrics): ObjectStore {
  const timed = async (bytes: () => number, write: () => Promise<void>): Promise<void> => {
    const started = performance.now();
    try {
      await write();
      metrics.lakePut((performance.now() - started) / 1_000, bytes(), 'ok');
    } catch (err) {
      metrics.lakePut((performance.now() - started) / 1_000, 0, 'error');
      throw err;
    }
  };
  const put: ObjectStore['put'] = (key, body, contentType) =>
    timed(
      () => (typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength),
      () => store.put(key, body, contentType),
    );
  const putIfAbsent: ObjectStore['putIfAbsent'] = async (key, body, contentType) => {
    let outcome: 'created' | 'exists' = 'exists';
    await timed(
      () => (outcome === 'exists' ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength),
      async () => {
        outcome = await store.putIfAbsent(key, body, contentType);
      },
    );
    return outcome;
  };
  const putStream: ObjectStore['putStream'] = (key, body, options) => {
    let sent = 0;
    const onProgress = (bytes: number) => {
      sent = bytes;
      options.onProgress?.(bytes);
    };
    return timed(
      () => sent,
      () => store.putStream(key, body, { ...options, onProgress }),
    );
  };
  // A proxy, so whatever else the store offers (now or later) passes through unchanged.
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'put') return put;
      if (prop === 'putIfAbsent') return putIfAbsent;
      if (prop === 'putStream') return putStream;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
