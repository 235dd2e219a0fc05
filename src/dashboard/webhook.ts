/**
 * The S3 event webhook of `sync --watch`: a target that MinIO (`notify_webhook`) and other
 * S3-compatible stores call with standard event notifications. Each `ObjectCreated` record
 * whose bucket and key a running watch covers becomes a copy job; other records are ignored.
 *
 * Protocol: `POST` with `Authorization: Bearer <SYNC_WEBHOOK_SECRET>` (MinIO sends its
 * `auth_token` so) and a JSON body `{"Records":[{"eventName":"s3:ObjectCreated:Put","s3":
 * {"bucket":{"name":"src"},"object":{"key":"a%2Fb+c.txt","eTag":"…","size":3}}}]}`. Keys are
 * form-URL-encoded (`+` is a space, `%2B` a plus). Answers: 401 wrong or missing secret,
 * 400 a body that is not an event notification, 200 `{"enqueued":n,"ignored":m}`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import type { Fleet } from '../fleet.js';
import { FleetError } from '../errors.js';
import { bareEtag, decodeEventKey } from '../lake/s3-url.js';
import { enqueueObjectEvents, type ObjectEvent } from '../producers/sync.js';

/** Options of {@link createS3EventWebhook}. */
export interface S3EventWebhookOptions {
  /** The shared secret callers send as `Authorization: Bearer <secret>`. */
  secret: string;
}

/** Largest accepted notification body (MinIO sends one record per request). */
const BODY_LIMIT = '1mb';

const notification = z.object({
  Records: z
    .array(
      z.object({
        eventName: z.string().optional(),
        s3: z.object({
          bucket: z.object({ name: z.string().min(1) }),
          object: z.object({ key: z.string().min(1), eTag: z.string().optional() }),
        }),
      }),
    )
    .default([]),
});

/** True for object-created events, in AWS (`ObjectCreated:Put`) or MinIO (`s3:ObjectCreated:Put`) spelling. */
function isObjectCreated(eventName: string | undefined): boolean {
  return eventName === undefined || /^(s3:)?ObjectCreated:/.test(eventName);
}

/** Constant-time comparison of a presented secret (both sides hashed so lengths match). */
function secretMatches(presented: string, secret: string): boolean {
  const a = createHash('sha256').update(presented, 'utf8').digest();
  const b = createHash('sha256').update(secret, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/**
 * An Express router (mount it at `/webhooks/s3`, before any basic auth: it has its own secret)
 * turning S3 event notifications into copy jobs of the watch that covers them.
 */
export function createS3EventWebhook(fleet: Fleet, options: S3EventWebhookOptions): Router {
  const router = express.Router();
  const requireSecret = (req: Request, res: Response, next: NextFunction): void => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (match?.[1] && secretMatches(match[1], options.secret)) {
      next();
      return;
    }
    res.status(401).set('WWW-Authenticate', 'Bearer realm="tmdb-fleet-webhook"').json({ error: 'wrong or missing bearer secret' });
  };
  router.post(
    '/',
    requireSecret,
    express.json({ limit: BODY_LIMIT, type: () => true }),
    async (req: Request, res: Response) => {
      const parsed = notification.safeParse(req.body);
      if (!parsed.success) {
        res.status(400).json({ error: 'expected an S3 event notification: {"Records":[{"s3":{"bucket":{"name":…},"object":{"key":…}}}]}' });
        return;
      }
      try {
        const events: ObjectEvent[] = parsed.data.Records.filter((r) => isObjectCreated(r.eventName)).map((r) => ({
          bucket: r.s3.bucket.name,
          key: decodeEventKey(r.s3.object.key),
          etag: bareEtag(r.s3.object.eTag),
        }));
        const result = await enqueueObjectEvents(fleet, events);
        const skipped = parsed.data.Records.length - events.length;
        fleet.log.info({ code: 'SYNC_EVENT', ...result, notCreated: skipped }, 'S3 event notification received');
        res.status(200).json({ enqueued: result.enqueued, ignored: result.ignored + skipped });
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        if (err instanceof FleetError) {
          res.status(400).json({ error: message });
          return;
        }
        fleet.log.error({ code: 'SYNC_EVENT', err: message }, 'could not enqueue S3 event');
        // 5xx: MinIO keeps the event and retries it.
        res.status(503).json({ error: 'could not enqueue the event; retry later' });
      }
    },
  );
  return router;
}
