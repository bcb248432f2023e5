import { Hono } from 'hono';
import { redactStringsInPlace } from '../../core/url-redaction.js';
import * as z from '../../core/schema.js';
import { SIGNATURE_SUFFIX } from '../../core/bucket-layout.js';
import type { FleetAdmin } from '../../service/fleet-admin.js';
import type { PackageUploadUrls } from '../../service/fleet-admin.js';
import { jsonBody, pathParams } from '../validation.js';
import type { JsonBodyOptions } from '../validation.js';
import { ACCEPTED } from './accepted.js';

/** POST /api/v1/packages/{name}/{version}/upload: the file to upload (and whether a signature comes with it). */
export const uploadBody = z.strictObject({
  file: z.string().check(
    z.minLength(1),
    z.refine((f) => !f.includes('/') && !f.endsWith(SIGNATURE_SUFFIX), `a file name without "/", not ending in ${SIGNATURE_SUFFIX}`),
  ),
  signature: z._default(z.boolean(), false),
});

export type PackageUploadBody = z.input<typeof uploadBody>;

const version = pathParams({ name: 'package', version: 'package-version' });

/**
 * /api/v1/packages. Package files go straight to the bucket through upload
 * URLs, since they can be far larger than an API request may be.
 */
export function packagesApi(admin: FleetAdmin, body: JsonBodyOptions): Hono {
  const api = new Hono();
  api.get('/', async (c) => c.json({ packages: await admin.listPackages() }));
  api.get('/:name/:version/rollout', version, async (c) => {
    const { name, version } = c.req.valid('param');
    return c.json(redactStringsInPlace(await admin.packageRollout(name, version)));
  });
  api.post('/:name/:version/upload', version, jsonBody(uploadBody, body), async (c) => {
    const { name, version } = c.req.valid('param');
    const { file, signature } = c.req.valid('json');
    const urls: PackageUploadUrls = await admin.packageUploadUrls(name, version, file, signature);
    return c.json(urls);
  });
  api.delete('/:name/:version', version, async (c) => {
    const { name, version } = c.req.valid('param');
    await admin.deletePackage(name, version);
    return c.json(ACCEPTED, 202);
  });
  return api;
}
