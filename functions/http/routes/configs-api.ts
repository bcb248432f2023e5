import { Hono } from 'hono';
import { redactStringsInPlace } from '../../core/url-redaction.js';
import { z } from 'zod';
import type { FleetAdmin } from '../../service/fleet-admin.js';
import { jsonBody, pathParams } from '../validation.js';
import type { JsonBodyOptions } from '../validation.js';
import { ACCEPTED } from './accepted.js';

const fileBody = z
  .object({
    content: z.string().optional(),
    contentBase64: z.string().optional(),
    contentType: z.string().min(1).optional(),
  })
  .strict()
  .refine((f) => (f.content === undefined) !== (f.contentBase64 === undefined), 'set exactly one of "content" and "contentBase64"');

/** PUT /api/v1/configs/{name}: every file of the configuration, by file name. */
export const configBody = z
  .object({ files: z.record(z.string().min(1), fileBody).refine((f) => Object.keys(f).length > 0, 'a configuration needs at least one file') })
  .strict();

export type ConfigUploadBody = z.input<typeof configBody>;

const named = pathParams({ name: 'config' });

/**
 * /api/v1/configs. Writes go to the bucket and take effect once the bucket
 * ingest recorded them (202 Accepted); reads show what is recorded.
 */
export function configsApi(admin: FleetAdmin, body: JsonBodyOptions): Hono {
  const api = new Hono();
  api.get('/', async (c) => c.json({ configs: await admin.listConfigs() }));
  api.get('/:name', named, async (c) => c.json(await admin.getConfig(c.req.valid('param').name)));
  api.get('/:name/rollout', named, async (c) => c.json(redactStringsInPlace(await admin.rollout(c.req.valid('param').name))));
  api.put('/:name', named, jsonBody(configBody, body), async (c) => {
    const files = Object.entries(c.req.valid('json').files).map(([fileName, f]) => ({
      name: fileName,
      body: f.content !== undefined ? new TextEncoder().encode(f.content) : new Uint8Array(Buffer.from(f.contentBase64!, 'base64')),
      contentType: f.contentType,
    }));
    return c.json({ ...(await admin.putConfig(c.req.valid('param').name, files)), ...ACCEPTED }, 202);
  });
  api.delete('/:name', named, async (c) => {
    await admin.deleteConfig(c.req.valid('param').name);
    return c.json(ACCEPTED, 202);
  });
  return api;
}
