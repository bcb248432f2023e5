import { Hono } from 'hono';
import * as z from '../../core/schema.js';
import { SIGNATURE_SUFFIX, TOP_LEVEL_PACKAGE_FOLDER } from '../../core/bucket-layout.js';
import { isValidName, isValidVersion, NAME_RULE_TEXT, VERSION_RULE_TEXT } from '../../core/names.js';
import type { FleetAdmin } from '../../service/fleet-admin.js';
import { badRequest, HttpError } from '../errors.js';

const fileBody = z
  .strictObject({
    content: z.optional(z.string()),
    contentBase64: z.optional(z.string()),
    contentType: z.optional(z.string().check(z.minLength(1))),
  })
  .check(z.refine((f) => (f.content === undefined) !== (f.contentBase64 === undefined), 'set exactly one of "content" and "contentBase64"'));

const configBody = z.strictObject({
  files: z.record(z.string().check(z.minLength(1)), fileBody).check(z.refine((f) => Object.keys(f).length > 0, 'a configuration needs at least one file')),
});

function validName(kind: string, name: string): string {
  if (!isValidName(name)) throw new HttpError(400, `invalid-${kind}-name`, `${kind} names are ${NAME_RULE_TEXT}`);
  return name;
}

async function jsonBody(request: Request): Promise<unknown> {
  let text: string;
  try {
    // Fatal decoding: invalid bytes are refused rather than turned into U+FFFD inside names.
    text = new TextDecoder('utf-8', { fatal: true }).decode(await request.arrayBuffer());
  } catch {
    throw new HttpError(400, 'invalid-utf8', 'request body is not valid UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'invalid-json', 'request body is not valid JSON');
  }
}

const certificateBody = z.strictObject({
  cert: z.string().check(z.minLength(1, 'the certificate (PEM) is required')),
  key: z.optional(z.string().check(z.minLength(1))),
  ca: z.optional(z.string().check(z.minLength(1))),
});

/**
 * Configurations, assignments, packages, connection settings and
 * certificates: /api/v1/configs, /assignments, /packages, /settings and
 * /certificates.
 * Writes go to the bucket and take effect once the bucket ingest recorded
 * them (202 Accepted); reads show what is recorded.
 */
export function fleetApi(admin: FleetAdmin): Hono {
  const api = new Hono();

  api.get('/configs', async (c) => c.json({ configs: await admin.listConfigs() }));
  api.get('/configs/:name', async (c) => c.json(await admin.getConfig(validName('config', c.req.param('name')))));
  api.get('/configs/:name/rollout', async (c) => c.json(await admin.rollout(validName('config', c.req.param('name')))));
  api.put('/configs/:name', async (c) => {
    const name = validName('config', c.req.param('name'));
    const parsed = configBody.safeParse(await jsonBody(c.req.raw));
    if (!parsed.success) throw badRequest(parsed.error);
    const files = Object.entries(parsed.data.files).map(([fileName, f]) => ({
      name: fileName,
      body: f.content !== undefined ? new TextEncoder().encode(f.content) : new Uint8Array(Buffer.from(f.contentBase64!, 'base64')),
      contentType: f.contentType,
    }));
    return c.json({ ...(await admin.putConfig(name, files)), status: 'accepted' }, 202);
  });
  api.delete('/configs/:name', async (c) => {
    await admin.deleteConfig(validName('config', c.req.param('name')));
    return c.json({ status: 'accepted' }, 202);
  });

  api.get('/assignments', async (c) => c.json({ assignments: await admin.listAssignments() }));
  api.get('/assignments/:name', async (c) => c.json(await admin.getAssignment(validName('assignment', c.req.param('name')))));
  api.put('/assignments/:name', async (c) => {
    const name = validName('assignment', c.req.param('name'));
    const assignment = await admin.putAssignment(name, (await jsonBody(c.req.raw)) as never);
    return c.json({ name, config: assignment.config ?? null, settings: assignment.settings ?? null, status: 'accepted' }, 202);
  });
  api.delete('/assignments/:name', async (c) => {
    await admin.deleteAssignment(validName('assignment', c.req.param('name')));
    return c.json({ status: 'accepted' }, 202);
  });

  api.get('/settings', async (c) => c.json({ settings: await admin.listSettings() }));
  api.get('/settings/:name', async (c) => c.json(await admin.getSettings(validName('settings', c.req.param('name')))));
  api.put('/settings/:name', async (c) => {
    const name = validName('settings', c.req.param('name'));
    const settings = await admin.putSettings(name, (await jsonBody(c.req.raw)) as never);
    return c.json({ name, settings, status: 'accepted' }, 202);
  });
  api.delete('/settings/:name', async (c) => {
    await admin.deleteSettings(validName('settings', c.req.param('name')));
    return c.json({ status: 'accepted' }, 202);
  });

  api.get('/certificates', async (c) => c.json({ certificates: await admin.listCertificates() }));
  api.put('/certificates/:name', async (c) => {
    const name = validName('certificate', c.req.param('name'));
    const parsed = certificateBody.safeParse(await jsonBody(c.req.raw));
    if (!parsed.success) throw badRequest(parsed.error);
    return c.json({ ...(await admin.putCertificate(name, parsed.data)), status: 'accepted' }, 202);
  });
  api.delete('/certificates/:name', async (c) => {
    await admin.deleteCertificate(validName('certificate', c.req.param('name')));
    return c.json({ status: 'accepted' }, 202);
  });

  api.get('/packages', async (c) => c.json({ packages: await admin.listPackages() }));
  api.get('/packages/:name/:version/rollout', async (c) =>
    c.json(await admin.packageRollout(packageFolder(c.req.param('name')), packageVersion(c.req.param('version')))));
  api.post('/packages/:name/:version/upload', async (c) => {
    const parsed = uploadBody.safeParse(await jsonBody(c.req.raw));
    if (!parsed.success) throw badRequest(parsed.error);
    const urls = await admin.packageUploadUrls(
      packageFolder(c.req.param('name')),
      packageVersion(c.req.param('version')),
      parsed.data.file,
      parsed.data.signature,
    );
    return c.json(urls);
  });
  api.delete('/packages/:name/:version', async (c) => {
    await admin.deletePackage(packageFolder(c.req.param('name')), packageVersion(c.req.param('version')));
    return c.json({ status: 'accepted' }, 202);
  });

  return api;
}

const uploadBody = z.strictObject({
  file: z.string().check(z.minLength(1), z.refine((f) => !f.includes('/') && !f.endsWith(SIGNATURE_SUFFIX), `a file name without "/", not ending in ${SIGNATURE_SUFFIX}`)),
  signature: z._default(z.boolean(), false),
});

function packageFolder(name: string): string {
  if (name !== TOP_LEVEL_PACKAGE_FOLDER && !isValidName(name)) {
    throw new HttpError(400, 'invalid-package-name', `package names are ${NAME_RULE_TEXT} (or ${TOP_LEVEL_PACKAGE_FOLDER} for the agent itself)`);
  }
  return name;
}

function packageVersion(version: string): string {
  if (!isValidVersion(version)) throw new HttpError(400, 'invalid-package-version', `versions are ${VERSION_RULE_TEXT}`);
  return version;
}
