import { Hono } from 'hono';
import type { RejectedKeyLog } from '../../ports/rejected-keys.js';

/** One rejected object key, with why and when (ISO 8601). */
export interface RejectedKeyView {
  key: string;
  reason: string;
  at: string;
}

/**
 * What the bucket ingest would not accept: /api/v1/bucket/rejected lists the
 * latest keys under a managed prefix that break the naming or layout rules
 * (newest first), so that an upload that never took effect says why.
 */
export function bucketApi(rejectedKeys: RejectedKeyLog): Hono {
  const api = new Hono();
  api.get('/rejected', async (c) => {
    const entries = await rejectedKeys.list();
    const rejected: RejectedKeyView[] = entries.map((e) => ({ key: e.key, reason: e.reason, at: new Date(e.at).toISOString() }));
    return c.json({ rejected });
  });
  return api;
}
