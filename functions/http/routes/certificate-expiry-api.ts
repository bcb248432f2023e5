import { Hono } from 'hono';
import * as z from '../../core/schema.js';
import { DAY_MS } from '../../core/certificate-expiry.js';
import type { LivenessPolicy } from '../../core/liveness.js';
import type { AgentStore } from '../../ports/agent-store.js';
import { expiringCertificates } from '../../service/certificate-expiry.js';
import { certificateHolders } from '../../service/credential-revocation.js';
import type { LivenessSource } from '../../service/credential-revocation.js';
import { HttpError } from '../errors.js';
import { pathParams, validQuery } from '../validation.js';

export const expiringQuery = z.strictObject({ withinDays: z.optional(z.coerce.number().check(z.minimum(0), z.maximum(3650))) });
export const deleteQuery = z.object({ force: z.optional(z.enum(['true', 'false'], 'force must be true or false')) });
const named = pathParams({ name: 'certificate' });

export interface CertificateHoldersDeps {
  agents: AgentStore;
  now: () => number;
  /** How far ahead expiring certificates are listed by default. */
  warningMs: number;
  liveness: LivenessPolicy;
  presence?: LivenessSource['presence'];
}

/**
 * Certificates as agents hold them:
 * - GET /certificates/expiring?withinDays=14: those that expire within that
 *   many days (the configured warning window by default), with their holders;
 * - GET /certificates/{name}/agents: the agents a bucket certificate was
 *   offered to, and which of them are live;
 * - DELETE /certificates/{name} is refused (409) while live agents hold the
 *   certificate, unless `?force=true`: upload the replacement under the same
 *   name (agents are offered it), or point their settings elsewhere, first.
 */
export function certificateHoldersApi(deps: CertificateHoldersDeps): Hono {
  const api = new Hono();
  const liveness: LivenessSource = { policy: deps.liveness, now: deps.now, presence: deps.presence };
  api.get('/expiring', validQuery(expiringQuery), async (c) => {
    const { withinDays } = c.req.valid('query');
    const windowMs = withinDays !== undefined ? withinDays * DAY_MS : deps.warningMs;
    return c.json({ withinDays: windowMs / DAY_MS, certificates: await expiringCertificates(deps.agents, deps.now(), windowMs) });
  });
  api.get('/:name/agents', named, async (c) => {
    const { name } = c.req.valid('param');
    return c.json({ name, ...(await certificateHolders(deps.agents, name, liveness)) });
  });
  api.delete('/:name', named, validQuery(deleteQuery), async (c, next) => {
    const { name } = c.req.valid('param');
    if (c.req.valid('query').force !== 'true') {
      const { liveAgents } = await certificateHolders(deps.agents, name, liveness);
      if (liveAgents.length > 0) {
        throw new HttpError(
          409,
          'certificate-in-use',
          `certificate ${name} is held by ${liveAgents.length} live agent(s) (e.g. ${liveAgents.slice(0, 3).join(', ')}). Upload its replacement under the same name or move their settings to another certificate first, or force the removal`,
        );
      }
    }
    await next();
  });
  return api;
}
