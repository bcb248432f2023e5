import { Hono } from 'hono';
import * as z from '../../core/schema.js';
import { parseSelector } from '../../core/selector.js';
import type { AgentActions } from '../../service/agent-actions.js';
import { jsonBody, pathParams } from '../validation.js';
import type { JsonBodyOptions } from '../validation.js';

/** POST /api/v1/agents/{instanceUid}/messages: a custom message, its data as text or base64. */
export const messageBody = z
  .strictObject({
    capability: z.string().check(z.minLength(1)),
    type: z.string().check(z.minLength(1)),
    data: z.optional(z.string()),
    dataBase64: z.optional(z.string()),
  })
  .check(z.refine((m) => !(m.data !== undefined && m.dataBase64 !== undefined), 'set at most one of "data" and "dataBase64"'));

export type MessageBody = z.input<typeof messageBody>;

/** POST /api/v1/restarts: restart every matching agent. */
export const restartsBody = z.strictObject({ selector: z.string().check(z.minLength(1)) });

export type RestartsBody = z.input<typeof restartsBody>;

const agent = pathParams({ instanceUid: 'instance-uid' });

/**
 * Restart commands and custom messages: queued in the agent's record, delivered
 * on its next poll (202 Accepted).
 */
export function agentActionsApi(actions: AgentActions, body: JsonBodyOptions): Hono {
  const api = new Hono();

  api.post('/agents/:instanceUid/restart', agent, async (c) => c.json(await actions.queueRestart(c.req.valid('param').instanceUid), 202));

  api.post('/restarts', jsonBody(restartsBody, body), async (c) => c.json(await actions.queueRestarts(parseSelector(c.req.valid('json').selector)), 202));

  api.get('/agents/:instanceUid/messages', agent, async (c) => c.json(await actions.messages(c.req.valid('param').instanceUid)));

  api.post('/agents/:instanceUid/messages', agent, jsonBody(messageBody, body), async (c) => {
    const { capability, type, data, dataBase64 } = c.req.valid('json');
    const bytes = dataBase64 !== undefined ? new Uint8Array(Buffer.from(dataBase64, 'base64')) : new TextEncoder().encode(data ?? '');
    return c.json(await actions.queueMessage(c.req.valid('param').instanceUid, { capability, type, data: bytes }), 202);
  });

  return api;
}
