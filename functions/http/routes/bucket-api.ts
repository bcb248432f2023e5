import { Hono } from 'hono';
import type { RejectedKeyLog } from '../../ports/rejected-keys.js';

/**
 * What the bucket ingest would not accept: /api/v1/bucket/rejected lists the
 * latest keys under a managed prefix that break the naming or layout rules
 * (newest first), so that an upload that never took effect says why.
 */
export function bucketApi(rejectedKeys: RejectedKeyLog): Hono {
  const api = new Hono();
  api.get('/rejected', async (c) => {
    const entries = await rejectedKeys.list();
    return c.json({ rejected: entries.map((e) => ({ key: e.key, reason: e.reason, at: new Date(e.at).toISOString() })) });
  });
  return api;
}
