import { sValidator } from '@hono/standard-validator';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { Env, MiddlewareHandler } from 'hono';
import { ROLLOUT_ACTIONS } from '../core/rollouts/control.js';
import { ROLLOUT_ASPECTS } from '../core/rollouts/rollout.js';
import * as z from '../core/schema.js';
import { isCanonicalInstanceUid } from '../core/instance-uid.js';
import { parseConfigHash } from '../core/config-history.js';
import { isValidName, isValidVersion } from '../core/names.js';
import { TOP_LEVEL_PACKAGE_FOLDER } from '../core/bucket-layout.js';
import type { ValidationIssue } from '../core/validation-text.js';
import { apiErrors } from './errors.js';
import type { PathParamKind } from './errors.js';
import { readLimited } from './request-body.js';

/**
 * Largest accepted fleet API JSON body. Lambda takes 6 MB per synchronous
 * invocation; a configuration upload carries its files base64-encoded, so this
 * leaves room for a few megabytes of configuration.
 */
export const DEFAULT_MAX_JSON_BYTES = 5 * 1024 * 1024;

const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;

export interface JsonBodyOptions {
  maxBytes?: number | undefined;
  /** The error code of a body that does not match the schema (default `invalid-request`). */
  code?: string | undefined;
  /** How the body itself is called in messages when an issue has no path (default `input`). */
  root?: string | undefined;
}

/** Standard Schema issues as the validation-text helper reads them (paths of keys, or of `{key}` segments). */
function issuesOf(issues: ReadonlyArray<StandardSchemaV1.Issue>): ValidationIssue[] {
  return issues.map((issue) => ({
    ...issue,
    path: (issue.path ?? []).map((segment) => (typeof segment === 'object' ? segment.key : segment)),
  }));
}

/**
 * The one JSON body reader of the fleet API: the body must be declared JSON
 * (415 otherwise, which also keeps a web page from posting to an
 * unauthenticated local backend without a CORS preflight), at most
 * `maxBytes` (413), valid UTF-8 (decoding is fatal, so invalid bytes are
 * refused rather than turned into U+FFFD inside names) and valid JSON (400
 * `invalid-json`), and then it must match `schema` (400 with every issue in
 * one line). Handlers read the result with `c.req.valid('json')`.
 */
export function jsonBody<S extends StandardSchemaV1>(schema: S, options: JsonBodyOptions = {}) {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_JSON_BYTES;
  const validate = sValidator('json', schema, (result) => {
    if (!result.success) throw apiErrors.invalidRequest(issuesOf(result.error), options.code, options.root);
  });
  const read: MiddlewareHandler = async (c, next) => {
    const mediaType = (c.req.header('content-type') ?? '').split(';', 1)[0]!.trim();
    if (!JSON_MEDIA_TYPE.test(mediaType)) throw apiErrors.unsupportedMediaType('application/json');
    const bytes = await readLimited(c.req.raw, maxBytes);
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw apiErrors.invalidUtf8();
    }
    try {
      JSON.parse(text);
    } catch (error) {
      throw apiErrors.invalidJson((error as Error).message);
    }
    // The validator reads the body through Hono's cache: hand it the checked text.
    (c.req.bodyCache as { text?: Promise<string> }).text = Promise.resolve(text);
    return validate(c as Parameters<typeof validate>[0], next);
  };
  // Typed as the validator, so that handlers see the validated body's type.
  return read as unknown as typeof validate;
}

/** The one query check: the query string against `schema`, 400 `invalid-request` naming each issue. */
export function validQuery<S extends StandardSchemaV1>(schema: S) {
  return sValidator('query', schema, (result) => {
    if (!result.success) throw apiErrors.invalidRequest(issuesOf(result.error));
  });
}

const PARAM_SCHEMAS: Record<PathParamKind, z.ZodMiniType<string, string>> = {
  config: z.string().check(z.refine(isValidName)),
  assignment: z.string().check(z.refine(isValidName)),
  settings: z.string().check(z.refine(isValidName)),
  certificate: z.string().check(z.refine(isValidName)),
  token: z.string().check(z.refine(isValidName)),
  package: z.string().check(z.refine((n) => n === TOP_LEVEL_PACKAGE_FOLDER || isValidName(n))),
  'package-version': z.string().check(z.refine(isValidVersion)),
  // Uids are case-insensitive hex; the store keys them in lower case.
  'instance-uid': z
    .pipe(
      z.string(),
      z.transform((u: string) => u.toLowerCase()),
    )
    .check(z.refine(isCanonicalInstanceUid)),
  'rollout-aspect': z.string().check(z.refine((a) => (ROLLOUT_ASPECTS as readonly string[]).includes(a))),
  'rollout-action': z.string().check(z.refine((a) => (ROLLOUT_ACTIONS as readonly string[]).includes(a))),
  // Handlers get the base64 form ConfigMeta uses, whichever form the URL had.
  'config-hash': z.pipe(
    z.string().check(z.refine((h) => parseConfigHash(h) !== undefined)),
    z.transform((h: string) => parseConfigHash(h)!),
  ),
};

type ParamInput<K extends string> = { param: Record<K, string> };
type ParamTargets<K extends string> = { in: ParamInput<K>; out: ParamInput<K> };

/**
 * The one path parameter check: each named parameter against the rule of its
 * kind (configuration, token and the other names by the rules in
 * core/names.ts, versions, canonical instance uids), 400 with the kind's code
 * (`invalid-config-name`, `invalid-instance-uid`, ...) before the handler
 * runs. Handlers read the checked values with `c.req.valid('param')`.
 */
export function pathParams<K extends string, E extends Env = Env, P extends string = string>(spec: Record<K, PathParamKind>): MiddlewareHandler<E, P, ParamTargets<K>> {
  const entries = Object.entries(spec) as Array<[K, PathParamKind]>;
  const schema = z.object(Object.fromEntries(entries.map(([key, kind]) => [key, PARAM_SCHEMAS[kind]])));
  return sValidator('param', schema, (result) => {
    if (result.success) return;
    const first = result.error[0]?.path?.[0];
    const key = ((typeof first === 'object' ? first.key : first) ?? entries[0]![0]) as K;
    throw apiErrors.invalidParam(spec[key], String((result.data as Record<string, unknown>)[key] ?? ''));
  }) as unknown as MiddlewareHandler<E, P, ParamTargets<K>>;
}
