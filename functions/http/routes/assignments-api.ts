import { Hono } from 'hono';
import { assignmentDocument } from '../../core/assignment-file.js';
import type { FleetAdmin } from '../../service/fleet-admin.js';
import { jsonBody, pathParams } from '../validation.js';
import type { JsonBodyOptions } from '../validation.js';
import { ACCEPTED } from './accepted.js';

const named = pathParams({ name: 'assignment' });

/** /api/v1/assignments: the body is an assignment file, checked with the rules the ingest uses. */
export function assignmentsApi(admin: FleetAdmin, body: JsonBodyOptions): Hono {
  const api = new Hono();
  api.get('/', async (c) => c.json({ assignments: await admin.listAssignments() }));
  api.get('/:name', named, async (c) => c.json(await admin.getAssignment(c.req.valid('param').name)));
  api.put('/:name', named, jsonBody(assignmentDocument, { ...body, code: 'invalid-assignment', root: 'assignment' }), async (c) => {
    const { name } = c.req.valid('param');
    const assignment = await admin.putAssignment(name, c.req.valid('json'));
    return c.json({ name, config: assignment.config ?? null, settings: assignment.settings ?? null, ...ACCEPTED }, 202);
  });
  api.delete('/:name', named, async (c) => {
    await admin.deleteAssignment(c.req.valid('param').name);
    return c.json(ACCEPTED, 202);
  });
  return api;
}
