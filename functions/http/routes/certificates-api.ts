import { Hono } from 'hono';
import { z } from 'zod';
import type { FleetAdmin } from '../../service/fleet-admin.js';
import { jsonBody, pathParams } from '../validation.js';
import type { JsonBodyOptions } from '../validation.js';
import { ACCEPTED } from './accepted.js';

/** PUT /api/v1/certificates/{name}: PEM text of the certificate, and optionally its key and CA. */
export const certificateBody = z
  .object({
    cert: z.string().min(1, 'the certificate (PEM) is required'),
    key: z.string().min(1).optional(),
    ca: z.string().min(1).optional(),
  })
  .strict();

export type CertificateUploadBody = z.input<typeof certificateBody>;

const named = pathParams({ name: 'certificate' });

/** /api/v1/certificates: PEM material that connection settings refer to by name. */
export function certificatesApi(admin: FleetAdmin, body: JsonBodyOptions): Hono {
  const api = new Hono();
  api.get('/', async (c) => c.json({ certificates: await admin.listCertificates() }));
  api.put('/:name', named, jsonBody(certificateBody, body), async (c) =>
    c.json({ ...(await admin.putCertificate(c.req.valid('param').name, c.req.valid('json'))), ...ACCEPTED }, 202));
  api.delete('/:name', named, async (c) => {
    await admin.deleteCertificate(c.req.valid('param').name);
    return c.json(ACCEPTED, 202);
  });
  return api;
}
