import { Hono } from 'hono';
import * as z from '../../core/schema.js';
import { isCanonicalInstanceUid } from '../../core/instance-uid.js';
import { parseSelector } from '../../core/selector.js';
import type { AgentActions } from '../../service/agent-actions.js';
import { badRequest, HttpError } from '../errors.js';

const messageBody = z
  .strictObject({
    capability: z.string().check(z.minLength(1)),
    type: z.string().check(z.minLength(1)),
    data: z.optional(z.string()),
    dataBase64: z.optional(z.string()),
  })
  .check(z.refine((m) => !(m.data !== undefined && m.dataBase64 !== undefined), 'set at most one of "data" and "dataBase64"'));

const restartsBody = z.strictObject({ selector: z.string().check(z.minLength(1)) });

function uidParam(raw: string): string {
  const uid = raw.toLowerCase();
  if (!isCanonicalInstanceUid(uid)) throw new HttpError(400, 'invalid-instance-uid', 'instance uid must be a canonical UUID (8-4-4-4-12 hex digits)');
  return uid;
}

async function json(request: Request): Promise<unknown> {
  try {
    return await request.json();
  } catch {
    throw new HttpError(400, 'invalid-json', 'request body is not valid JSON');
  }
}

/**
 * Restart commands and custom messages: queued in the agent's record, delivered
 * on its next poll (202 Accepted).
 */
export function agentActionsApi(actions: AgentActions): Hono {
  const api = new Hono();

  api.post('/agents/:instanceUid/restart', async (c) => c.json(await actions.queueRestart(uidParam(c.req.param('instanceUid'))), 202));

  api.post('/restarts', async (c) => {
    const parsed = restartsBody.safeParse(await json(c.req.raw));
    if (!parsed.success) throw badRequest(parsed.error);
    return c.json(await actions.queueRestarts(parseSelector(parsed.data.selector)), 202);
  });

  api.get('/agents/:instanceUid/messages', async (c) => c.json(await actions.messages(uidParam(c.req.param('instanceUid')))));

  api.post('/agents/:instanceUid/messages', async (c) => {
    const uid = uidParam(c.req.param('instanceUid'));
    const parsed = messageBody.safeParse(await json(c.req.raw));
    if (!parsed.success) throw badRequest(parsed.error);
    const { capability, type, data, dataBase64 } = parsed.data;
    const bytes = dataBase64 !== undefined ? new Uint8Array(Buffer.from(dataBase64, 'base64')) : new TextEncoder().encode(data ?? '');
    return c.json(await actions.queueMessage(uid, { capability, type, data: bytes }), 202);
  });

  return api;
}
