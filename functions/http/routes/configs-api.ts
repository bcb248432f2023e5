import { Hono } from 'hono';
import { redactStringsInPlace } from '../../core/url-redaction.js';
import * as z from '../../core/schema.js';
import type { FleetAdmin } from '../../service/fleet-admin.js';
import { jsonBody, pathParams, validQuery } from '../validation.js';
import type { JsonBodyOptions } from '../validation.js';
import { ACCEPTED } from './accepted.js';

const fileBody = z
  .strictObject({
    content: z.optional(z.string()),
    contentBase64: z.optional(z.string()),
    contentType: z.optional(z.string().check(z.minLength(1))),
  })
  .check(z.refine((f) => (f.content === undefined) !== (f.contentBase64 === undefined), 'set exactly one of "content" and "contentBase64"'));

/** PUT /api/v1/configs/{name}: every file of the configuration, by file name. */
export const configBody = z.strictObject({
  files: z.record(z.string().check(z.minLength(1)), fileBody).check(z.refine((f) => Object.keys(f).length > 0, 'a configuration needs at least one file')),
});

export type ConfigUploadBody = z.input<typeof configBody>;

/** GET /api/v1/configs/{name}: `content=true` adds each file's text. */
export const configQuery = z.object({ content: z.optional(z.enum(['true', 'false'], 'content must be true or false')) });

const named = pathParams({ name: 'config' });

/**
 * /api/v1/configs. Writes go to the bucket and take effect once the bucket
 * ingest recorded them (202 Accepted); reads show what is recorded.
 */
export function configsApi(admin: FleetAdmin, body: JsonBodyOptions): Hono {
  const api = new Hono();
  api.get('/', async (c) => c.json({ configs: await admin.listConfigs() }));
  api.get('/:name', named, validQuery(configQuery), async (c) => c.json(await admin.getConfig(c.req.valid('param').name, { content: c.req.valid('query').content === 'true' })));
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
