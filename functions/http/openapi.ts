import * as z from '../core/schema.js';
import { assignmentDocument } from '../core/assignment-file.js';
import { settingsDocument } from '../core/settings-file.js';
import { messageBody, restartsBody } from './routes/agent-actions-api.js';
import { listQuery } from './routes/agents-api.js';
import { auditQuery } from './routes/audit-api.js';
import { deleteQuery, expiringQuery } from './routes/certificate-expiry-api.js';
import { certificateBody } from './routes/certificates-api.js';
import { configBody, configQuery } from './routes/configs-api.js';
import { versionQuery, versionsQuery } from './routes/config-versions-api.js';
import { uploadBody } from './routes/packages-api.js';
import { createTokenBody, revokeQuery } from './routes/tokens-api.js';
import { PARAM_RULE_TEXT } from './errors.js';
import type { PathParamKind } from './errors.js';

type Method = 'get' | 'post' | 'put' | 'delete';
type Schema = z.ZodMiniType;

/** One route of the fleet API as the description shows it; the schemas are the ones that validate requests. */
export interface RouteDoc {
  method: Method;
  /** Under /api/v1, with `{param}` segments. */
  path: string;
  summary: string;
  params?: Partial<Record<string, PathParamKind>>;
  query?: Schema;
  body?: Schema;
  /** Status code to what that answer means; 4xx and 5xx answers carry the error body. */
  responses: Record<number, string>;
  /**
   * Every mutating route names its audit action (see audit-middleware.ts), and
   * may copy scalar fields of its body into the entry's detail.
   */
  audit?: { action: string; bodyFields?: readonly string[] };
}

const uid = { instanceUid: 'instance-uid' } as const;
const named = (kind: PathParamKind) => ({ name: kind });
const pkg = { name: 'package', version: 'package-version' } as const;
const rollout = { assignment: 'assignment', aspect: 'rollout-aspect' } as const;
const version = { name: 'config', hash: 'config-hash' } as const;
const ACCEPTED = 'accepted: takes effect once the bucket ingest recorded it';
const INVALID = 'the request breaks a rule: a name, a parameter or the body';

/** Every route of the fleet API. The test walks the registered routes and fails when this list misses one. */
export const FLEET_API_ROUTES: readonly RouteDoc[] = [
  { method: 'get', path: '/openapi.json', summary: 'This description (OpenAPI 3.1)', responses: { 200: 'the document' } },
  { method: 'get', path: '/agents', summary: 'List agents, filtered and paged', query: listQuery, responses: { 200: '{"agents": [...], "nextCursor"?}', 400: INVALID } },
  { method: 'get', path: '/agents/{instanceUid}', summary: 'One agent in full', params: uid, responses: { 200: 'the agent', 400: INVALID, 404: 'no such agent' } },
  {
    method: 'post',
    audit: { action: 'agent.restart' },
    path: '/agents/{instanceUid}/restart',
    summary: 'Queue a restart command',
    params: uid,
    responses: { 202: '{"id", "expiresAt"}', 400: INVALID, 404: 'no such agent', 409: 'the agent does not accept restarts' },
  },
  {
    method: 'post',
    audit: { action: 'agents.restart', bodyFields: ['selector'] },
    path: '/restarts',
    summary: 'Restart every matching agent',
    body: restartsBody,
    responses: { 202: '{"queued": [...], "skipped": [...]}', 400: INVALID },
  },
  {
    method: 'get',
    path: '/agents/{instanceUid}/messages',
    summary: 'Custom messages received and queued',
    params: uid,
    responses: { 200: '{"received", "queued"}', 400: INVALID, 404: 'no such agent' },
  },
  {
    method: 'post',
    path: '/agents/{instanceUid}/messages',
    audit: { action: 'agent.message', bodyFields: ['capability', 'type'] },
    summary: 'Queue a custom message',
    params: uid,
    body: messageBody,
    responses: { 202: '{"id", "expiresAt"}', 400: INVALID, 404: 'no such agent', 409: 'the agent lacks the capability' },
  },
  { method: 'get', path: '/configs', summary: 'List configurations', responses: { 200: '{"configs": [...]}' } },
  {
    method: 'get',
    path: '/configs/{name}',
    summary: "One configuration; with content=true, each file's text (null for a binary or too large file, with contentOmitted saying which)",
    params: named('config'),
    query: configQuery,
    responses: { 200: 'the configuration', 400: INVALID, 404: 'no such configuration' },
  },
  { method: 'put', audit: { action: 'config.put' }, path: '/configs/{name}', summary: 'Upload a configuration', params: named('config'), body: configBody, responses: { 202: ACCEPTED, 400: INVALID } },
  {
    method: 'delete',
    audit: { action: 'config.remove' },
    path: '/configs/{name}',
    summary: 'Remove a configuration',
    params: named('config'),
    responses: { 202: ACCEPTED, 400: INVALID, 404: 'no such configuration' },
  },
  {
    method: 'get',
    path: '/configs/{name}/rollout',
    summary: 'How far a configuration reached',
    params: named('config'),
    responses: { 200: 'the rollout', 400: INVALID, 404: 'no such configuration' },
  },
  {
    method: 'get',
    path: '/configs/{name}/versions',
    summary: "A configuration's recorded versions, newest first, with what each changed",
    params: named('config'),
    query: versionsQuery,
    responses: { 200: '{"name", "versions": [...], "nextCursor"?}', 400: INVALID, 404: 'no versions recorded for this name' },
  },
  {
    method: 'get',
    path: '/configs/{name}/versions/{hash}',
    summary: "One version's files with their text, and a unified diff against the previous version (or ?against=)",
    params: version,
    query: versionQuery,
    responses: { 200: 'the version', 400: INVALID, 404: 'no such version' },
  },
  {
    method: 'post',
    audit: { action: 'config.restore' },
    path: '/configs/{name}/versions/{hash}/restore',
    summary: 'Re-assign an earlier version: writes its files back to the bucket (and removes the others)',
    params: version,
    responses: { 202: ACCEPTED, 400: INVALID, 404: 'no such version' },
  },
  { method: 'get', path: '/assignments', summary: 'List assignments', responses: { 200: '{"assignments": [...]}' } },
  { method: 'get', path: '/assignments/{name}', summary: 'One assignment', params: named('assignment'), responses: { 200: 'the assignment', 400: INVALID, 404: 'no such assignment' } },
  {
    method: 'put',
    audit: { action: 'assignment.put' },
    path: '/assignments/{name}',
    summary: 'Upload an assignment',
    params: named('assignment'),
    body: assignmentDocument,
    responses: { 202: ACCEPTED, 400: INVALID },
  },
  {
    method: 'delete',
    audit: { action: 'assignment.remove' },
    path: '/assignments/{name}',
    summary: 'Remove an assignment',
    params: named('assignment'),
    responses: { 202: ACCEPTED, 400: INVALID, 404: 'no such assignment' },
  },
  { method: 'get', path: '/packages', summary: 'List packages', responses: { 200: '{"packages": [...]}' } },
  {
    method: 'post',
    audit: { action: 'package.upload' },
    path: '/packages/{name}/{version}/upload',
    summary: 'Upload URLs for a package file',
    params: pkg,
    body: uploadBody,
    responses: { 200: '{"file": "<presigned PUT URL>", "signature"?}', 400: INVALID },
  },
  {
    method: 'delete',
    audit: { action: 'package.remove' },
    path: '/packages/{name}/{version}',
    summary: 'Remove a package version',
    params: pkg,
    responses: { 202: ACCEPTED, 400: INVALID, 404: 'no such package' },
  },
  { method: 'get', path: '/packages/{name}/{version}/rollout', summary: 'How far a package reached', params: pkg, responses: { 200: 'the rollout', 400: INVALID, 404: 'no such package' } },
  { method: 'get', path: '/rollouts', summary: 'List staged rollouts, one per assignment and aspect', responses: { 200: '{"rollouts": [...]}' } },
  {
    method: 'get',
    path: '/rollouts/{assignment}/{aspect}',
    summary: 'One staged rollout: state, step, counts, why it paused, timeline (a running one is evaluated first)',
    params: rollout,
    responses: { 200: 'the rollout', 400: INVALID, 404: 'the assignment has no rollout' },
  },
  {
    method: 'post',
    audit: { action: 'rollout.{action}' },
    path: '/rollouts/{assignment}/{aspect}/{action}',
    summary: 'Pause, resume, abort (roll back now) or promote (skip to 100 %) a rollout',
    params: { ...rollout, action: 'rollout-action' },
    responses: { 200: 'the rollout after the action', 400: INVALID, 404: 'the assignment has no rollout', 409: 'the action does not apply in the rollout state' },
  },
  { method: 'get', path: '/settings', summary: 'List connection settings', responses: { 200: '{"settings": [...]}' } },
  { method: 'get', path: '/settings/{name}', summary: 'One connection settings document', params: named('settings'), responses: { 200: 'the settings', 400: INVALID, 404: 'no such settings' } },
  {
    method: 'put',
    audit: { action: 'settings.put' },
    path: '/settings/{name}',
    summary: 'Upload connection settings',
    params: named('settings'),
    body: settingsDocument,
    responses: { 202: ACCEPTED, 400: INVALID },
  },
  {
    method: 'delete',
    audit: { action: 'settings.remove' },
    path: '/settings/{name}',
    summary: 'Remove connection settings',
    params: named('settings'),
    responses: { 202: ACCEPTED, 400: INVALID, 404: 'no such settings' },
  },
  { method: 'get', path: '/certificates', summary: 'List certificates', responses: { 200: '{"certificates": [...]}' } },
  {
    method: 'put',
    audit: { action: 'certificate.put' },
    path: '/certificates/{name}',
    summary: 'Upload a certificate',
    params: named('certificate'),
    body: certificateBody,
    responses: { 202: ACCEPTED, 400: INVALID },
  },
  {
    method: 'delete',
    path: '/certificates/{name}',
    audit: { action: 'certificate.remove' },
    summary: 'Remove a certificate',
    params: named('certificate'),
    query: deleteQuery,
    responses: { 202: ACCEPTED, 400: INVALID, 404: 'no such certificate', 409: 'live agents hold it (unless force=true)' },
  },
  {
    method: 'get',
    path: '/certificates/expiring',
    summary: 'Certificates that expire soon, with their holders',
    query: expiringQuery,
    responses: { 200: '{"withinDays", "certificates"}', 400: INVALID },
  },
  {
    method: 'get',
    path: '/certificates/{name}/agents',
    summary: 'Agents a certificate was offered to',
    params: named('certificate'),
    responses: { 200: '{"name", "agents", "liveAgents"}', 400: INVALID },
  },
  { method: 'get', path: '/tokens', summary: 'List agent tokens', responses: { 200: '{"tokens": [...]}' } },
  {
    method: 'post',
    audit: { action: 'token.create', bodyFields: ['name', 'deliverable'] },
    path: '/tokens',
    summary: 'Create an agent token (shown once)',
    body: createTokenBody,
    responses: { 201: 'the token', 400: INVALID, 409: 'the name is taken' },
  },
  { method: 'get', path: '/tokens/{name}/agents', summary: 'Agents that use a token', params: named('token'), responses: { 200: '{"name", "agents", ...}', 400: INVALID } },
  {
    method: 'delete',
    path: '/tokens/{name}',
    audit: { action: 'token.revoke' },
    summary: 'Revoke a token',
    params: named('token'),
    query: revokeQuery,
    responses: { 202: 'rotating to the replacement: repeat the request', 204: 'revoked', 400: INVALID, 404: 'no such token', 409: 'live agents use it' },
  },
  {
    method: 'get',
    path: '/audit',
    summary: 'Changes to the fleet (API, bucket, rollouts), newest first, filtered and paged',
    query: auditQuery,
    responses: { 200: '{"entries": [...], "nextCursor"?}', 400: INVALID },
  },
  { method: 'get', path: '/bucket/rejected', summary: 'Objects the bucket ingest rejected, newest first', responses: { 200: '{"rejected": [...]}' } },
];

const ERROR_BODY = {
  type: 'object',
  required: ['error'],
  properties: {
    error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } },
  },
};

/** The request side: what a client may send, so defaults make a field optional and refinements stay in the text. */
function jsonSchema(schema: Schema): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

function operation(route: RouteDoc) {
  const parameters: unknown[] = Object.entries(route.params ?? {}).map(([name, kind]) => ({ name, in: 'path', required: true, description: PARAM_RULE_TEXT[kind!], schema: { type: 'string' } }));
  if (route.query) {
    const query = jsonSchema(route.query) as { properties?: Record<string, unknown>; required?: string[] };
    for (const [name, schema] of Object.entries(query.properties ?? {})) {
      parameters.push({ name, in: 'query', required: query.required?.includes(name) ?? false, schema });
    }
  }
  // Answers any route may give: the store not answering in time, and for a body, its envelope.
  const common: Record<number, string> = { 503: 'the store is unavailable or slow: retry after Retry-After' };
  if (route.body) Object.assign(common, { 413: 'the body is too large', 415: 'the body is not declared application/json' });
  const responses = Object.fromEntries(
    Object.entries({ ...common, ...route.responses }).map(([status, description]) => [
      status,
      Number(status) >= 400 ? { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/ApiError' } } } } : { description },
    ]),
  );
  return {
    summary: route.summary,
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(route.body) } } } } : {}),
    responses,
  };
}

/** The fleet API as an OpenAPI 3.1 document, built from the route table and the request schemas. */
export function openApiDocument(routes: readonly RouteDoc[] = FLEET_API_ROUTES) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) (paths[route.path] ??= {})[route.method] = operation(route);
  return {
    openapi: '3.1.0',
    info: { title: 'OpAMP fleet API', version: '1' },
    servers: [{ url: '/api/v1' }],
    paths,
    components: { schemas: { ApiError: ERROR_BODY } },
  };
}
