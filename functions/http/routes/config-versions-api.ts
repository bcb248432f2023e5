import { Hono } from 'hono';
import { parseConfigHash } from '../../core/config-history.js';
import * as z from '../../core/schema.js';
import type { FleetAdmin } from '../../service/fleet-admin.js';
import { apiErrors } from '../errors.js';
import { pathParams, validQuery } from '../validation.js';
import { ACCEPTED } from './accepted.js';

export const versionsQuery = z.object({
  limit: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(100)), 20),
  /** `nextCursor` of the previous page. */
  cursor: z.optional(z.string().check(z.regex(/^[0-9]{1,15}$/, 'cursor must be the nextCursor of a previous page'))),
});

export const versionQuery = z.object({
  /** Diff against this version instead of the one recorded before. */
  against: z.optional(z.string().check(z.minLength(1))),
});

const named = pathParams({ name: 'config' });
const versioned = pathParams({ name: 'config', hash: 'config-hash' });

/**
 * /api/v1/configs/{name}/versions: the versions a configuration went
 * through (recorded by the bucket ingest), each one's files and diff, and
 * restoring one (written back to the bucket like an upload: 202 Accepted).
 */
export function configVersionsApi(admin: FleetAdmin): Hono {
  const api = new Hono();
  api.get('/:name/versions', named, validQuery(versionsQuery), async (c) => c.json(await admin.listVersions(c.req.valid('param').name, c.req.valid('query'))));
  api.get('/:name/versions/:hash', versioned, validQuery(versionQuery), async (c) => {
    const { name, hash } = c.req.valid('param');
    const { against } = c.req.valid('query');
    const base = against === undefined ? undefined : parseConfigHash(against);
    if (against !== undefined && base === undefined) throw apiErrors.invalidParam('config-hash', against);
    return c.json(await admin.getVersion(name, hash, base));
  });
  api.post('/:name/versions/:hash/restore', versioned, async (c) => {
    const { name, hash } = c.req.valid('param');
    return c.json({ ...(await admin.restoreVersion(name, hash)), ...ACCEPTED }, 202);
  });
  return api;
}
