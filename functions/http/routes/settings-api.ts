import { Hono } from 'hono';
import { literalCredentialWarnings } from '../../core/secret-refs.js';
import { settingsDocument } from '../../core/settings-file.js';
import type { FleetAdmin } from '../../service/fleet-admin.js';
import { jsonBody, pathParams } from '../validation.js';
import type { JsonBodyOptions } from '../validation.js';
import { ACCEPTED } from './accepted.js';

const named = pathParams({ name: 'settings' });

/** /api/v1/settings: the body is a connection settings document, checked with the rules the ingest uses. */
export function settingsApi(admin: FleetAdmin, body: JsonBodyOptions): Hono {
  const api = new Hono();
  api.get('/', async (c) => c.json({ settings: await admin.listSettings() }));
  api.get('/:name', named, async (c) => c.json(await admin.getSettings(c.req.valid('param').name)));
  api.put('/:name', named, jsonBody(settingsDocument, { ...body, code: 'invalid-settings', root: 'settings' }), async (c) => {
    const { name } = c.req.valid('param');
    const settings = await admin.putSettings(name, c.req.valid('json'));
    return c.json({ name, settings, warnings: literalCredentialWarnings(settings), ...ACCEPTED }, 202);
  });
  api.delete('/:name', named, async (c) => {
    await admin.deleteSettings(c.req.valid('param').name);
    return c.json(ACCEPTED, 202);
  });
  return api;
}
