import { createRequire } from 'node:module';
import type S3rver from 's3rver';
import { keyViolation } from '../core/names.js';
import type { NameViolation } from '../core/names.js';

/**
 * The embedded S3 (s3rver) stores each key as a path under its directory:
 * a key with ".." segments would be written outside it, and a segment longer
 * than the file system takes makes it throw where nothing catches the error
 * (the whole process dies). Whatever client sends such a key (the backend,
 * `aws s3 cp`, a test), it is answered with an S3-style 400 here, before
 * s3rver touches the disk.
 */
interface KoaContext {
  path: string;
  query: Record<string, string | string[] | undefined>;
  headers: Record<string, string | string[] | undefined>;
  status: number;
  type: string;
  body: unknown;
}
type Middleware = (ctx: KoaContext, next: () => Promise<void>) => unknown;
interface S3rverInternals {
  middleware: Middleware[];
  store: { getResourcePath(bucket: string, key: string | undefined, resource: string): string };
}
type S3ErrorClass = new (code: string, message: string) => Error;

const S3Error = createRequire(import.meta.url)('s3rver/lib/models/error.js') as S3ErrorClass;

export function guardS3rverKeys(server: S3rver): void {
  const internals = server as unknown as S3rverInternals;
  // Before the router (the last middleware), after the virtual-host rewrite.
  internals.middleware.splice(internals.middleware.length - 1, 0, keyGuard);
  // A second line for keys that arrive in request bodies (a multi-object delete).
  const store = internals.store;
  const resourcePath = store.getResourcePath.bind(store);
  store.getResourcePath = (bucket, key, resource) => {
    const violation = key ? keyViolation(key) : undefined;
    if (violation) throw s3Error(violation);
    return resourcePath(bucket, key, resource);
  };
}

const keyGuard: Middleware = async (ctx, next) => {
  const problem = requestProblem(ctx);
  if (!problem) return next();
  ctx.status = 400;
  ctx.type = 'application/xml';
  ctx.body = errorXml(problem.code, problem.message);
};

function requestProblem(ctx: KoaContext): { code: string; message: string } | undefined {
  const slash = ctx.path.indexOf('/', 1);
  const keys: Array<{ key: string; prefix: boolean }> = [];
  if (slash > 0 && slash < ctx.path.length - 1) keys.push({ key: ctx.path.slice(slash + 1), prefix: false });
  const copySource = ctx.headers['x-amz-copy-source'];
  if (typeof copySource === 'string') {
    const path = copySource.split('?')[0]!.replace(/^\//, '');
    keys.push({ key: path.slice(path.indexOf('/') + 1), prefix: false });
  }
  for (const name of ['prefix', 'start-after', 'marker']) {
    const value = ctx.query[name];
    // Query values arrive decoded already: re-encode so that all keys decode the same way below.
    if (typeof value === 'string' && value !== '') keys.push({ key: encodeURIComponent(value), prefix: name === 'prefix' });
  }
  for (const { key: encoded, prefix } of keys) {
    let key: string;
    try {
      key = decodeURIComponent(encoded);
    } catch {
      return { code: 'InvalidURI', message: "Couldn't parse the specified URI (the key is not valid UTF-8)." };
    }
    // A listing prefix may end in "/" (a folder); a key may not.
    const violation = keyViolation(prefix && key.endsWith('/') ? key.slice(0, -1) : key);
    if (violation) return { code: codeOf(violation), message: violation.message };
  }
  return undefined;
}

function codeOf(violation: NameViolation): string {
  return violation.rule === 'key-too-long' || violation.rule === 'segment-too-long' ? 'KeyTooLongError' : 'InvalidArgument';
}

function s3Error(violation: NameViolation): Error {
  return new S3Error(codeOf(violation), violation.message);
}

function errorXml(code: string, message: string): string {
  const xmlEscape = (text: string) => text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error>`;
}
