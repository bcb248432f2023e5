import { Hono } from 'hono';
import * as z from '../../core/schema.js';
import type { FleetAdmin } from '../../service/fleet-admin.js';
import { jsonBody, pathParams } from '../validation.js';
import type { JsonBodyOptions } from '../validation.js';
import { ACCEPTED } from './accepted.js';

/** PUT /api/v1/certificates/{name}: PEM text of the certificate, and optionally its key and CA. */
export const certificateBody = z.strictObject({
  cert: z.string().check(z.minLength(1, 'the certificate (PEM) is required')),
  key: z.optional(z.string().check(z.minLength(1))),
  ca: z.optional(z.string().check(z.minLength(1))),
});

export type CertificateUploadBody = z.input<typeof certificateBody>;

const named = pathParams({ name: 'certificate' });

/** /api/v1/certificates: PEM material that connection settings refer to by name. */
export function certificatesApi(admin: FleetAdmin, body: JsonBodyOptions): Hono {
  const api = new Hono();
  api.get('/', async (c) => c.json({ certificates: await admin.listCertificates() }));
  api.put('/:name', named, jsonBody(certificateBody, body), async (c) => c.json({ ...(await admin.putCertificate(c.req.valid('param').name, c.req.valid('json'))), ...ACCEPTED }, 202));
  api.delete('/:name', named, async (c) => {
    await admin.deleteCertificate(c.req.valid('param').name);
    return c.json(ACCEPTED, 202);
  });
  return api;
}
