import type { Context, MiddlewareHandler } from 'hono';
import { auditResultOfStatus } from '../core/audit.js';
import type { AuditDetail, AuditEntry } from '../core/audit.js';
import type { AuditLog } from '../ports/audit-log.js';
import type { RouteDoc } from './openapi.js';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface ApiAuditOptions {
  log: AuditLog;
  now: () => number;
  /** Who made the request (see principal.ts). */
  principal: (c: Context) => string;
  /** The routes, each mutating one with its audit action. */
  routes: readonly RouteDoc[];
  /** Where the routes are mounted (default /api/v1). */
  basePath?: string;
}

interface Matcher {
  method: string;
  pattern: RegExp;
  /** How many leading segments name the target: up to the last path parameter, or the whole path. */
  targetSegments: number;
  /** The route has no path parameter: what it creates is named in its body (POST /tokens). */
  namedByBody: boolean;
  /** The action, possibly naming a path parameter (`rollout.{action}`), filled in from the path. */
  action: string;
  /** The path parameters, in order. */
  params: readonly string[];
  bodyFields: readonly string[];
}

function matchers(routes: readonly RouteDoc[]): Matcher[] {
  return routes.flatMap((route) => {
    if (!route.audit) return [];
    const segments = route.path.split('/').filter(Boolean);
    const lastParam = segments.findLastIndex((s) => s.startsWith('{'));
    const pattern = new RegExp(`^/${segments.map((s) => (s.startsWith('{') ? '([^/]+)' : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/')}/?$`);
    return [
      {
        method: route.method.toUpperCase(),
        pattern,
        targetSegments: lastParam >= 0 ? lastParam + 1 : segments.length,
        namedByBody: lastParam < 0,
        action: route.audit.action,
        params: segments.filter((s) => s.startsWith('{')).map((s) => s.slice(1, -1)),
        bodyFields: route.audit.bodyFields ?? [],
      },
    ];
  });
}

function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The error body's message of a refused or failed request, when it has one. */
async function errorMessage(response: Response): Promise<string | undefined> {
  if (!(response.headers.get('content-type') ?? '').includes('json')) return undefined;
  const body = (await response
    .clone()
    .json()
    .catch(() => undefined)) as { error?: { message?: unknown } } | undefined;
  return typeof body?.error?.message === 'string' ? body.error.message : undefined;
}

/** The named scalar fields of the validated JSON body (absent when the body was refused before validation). */
function bodyDetail(c: Context, fields: readonly string[]): AuditDetail {
  if (fields.length === 0) return {};
  let body: unknown;
  try {
    body = (c.req.valid as (target: 'json') => unknown)('json');
  } catch {
    return {};
  }
  const detail: AuditDetail = {};
  for (const field of fields) {
    const value = (body as Record<string, unknown> | undefined)?.[field];
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') detail[field] = value;
  }
  return detail;
}

/**
 * Records every mutating fleet API request once it is answered: the action
 * its route names, the target its path names (`assignments/checkout`,
 * `agents/<uid>`), the result its status gives (2xx ok, 4xx refused, 5xx
 * failed) and the error body's message. GET requests, and paths no route
 * serves, are not recorded. The write is awaited (a Lambda function may be
 * frozen once it answers) but never fails the request (see AuditLog).
 */
export function auditMutations(options: ApiAuditOptions): MiddlewareHandler {
  const table = matchers(options.routes);
  const base = options.basePath ?? '/api/v1';
  return async (c, next) => {
    await next();
    const method = c.req.method;
    if (!MUTATING.has(method) || !c.req.path.startsWith(`${base}/`)) return;
    const path = c.req.path.slice(base.length);
    const route = table.find((m) => m.method === method && m.pattern.test(path));
    if (!route) return;
    const values = route.pattern.exec(path)!.slice(1).map(decoded);
    const action = route.action.replace(/\{(\w+)\}/g, (_, name: string) => values[route.params.indexOf(name)] ?? name);
    const status = c.res.status;
    const fromBody = bodyDetail(c, route.bodyFields);
    const detail: AuditDetail = { ...Object.fromEntries(new URL(c.req.url).searchParams), ...fromBody };
    let target = path.split('/').filter(Boolean).slice(0, route.targetSegments).map(decoded).join('/');
    // A route that creates what its body names (POST /tokens) targets that name.
    if (route.namedByBody && typeof fromBody.name === 'string') target = `${target}/${fromBody.name}`;
    const message = status >= 400 ? await errorMessage(c.res) : undefined;
    const entry: AuditEntry = {
      at: options.now(),
      principal: options.principal(c),
      source: 'api',
      action,
      target,
      result: auditResultOfStatus(status),
      status,
      ...(message !== undefined ? { message } : {}),
      ...(Object.keys(detail).length > 0 ? { detail } : {}),
    };
    await options.log.record(entry);
  };
}
