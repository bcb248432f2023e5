import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import type { MiddlewareHandler } from 'hono';
import { apiErrors, HttpError } from './errors.js';

const gunzipAsync = promisify(gunzip);

export interface ProtobufBodyOptions {
  /** Largest accepted body in bytes, after decompression. */
  maxBytes: number;
}

export type ProtobufBodyVariables = { protobufBody: Uint8Array };

/**
 * Accepts a protobuf request body: checks the content type (415), reads at
 * most `maxBytes` (413, whether or not a Content-Length was sent), and
 * decompresses gzip with the same ceiling on the output, so a gzip bomb stops
 * at the limit instead of filling memory. The body is left in
 * `c.var.protobufBody`.
 */
export function protobufBody(options: ProtobufBodyOptions): MiddlewareHandler<{ Variables: ProtobufBodyVariables }> {
  return async (c, next) => {
    if (!isProtobufContentType(c.req.header('content-type'))) {
      throw apiErrors.unsupportedMediaType('application/x-protobuf');
    }
    const encoding = (c.req.header('content-encoding') ?? 'identity').trim().toLowerCase();
    if (encoding !== 'identity' && encoding !== 'gzip') {
      throw new HttpError(415, 'unsupported-content-encoding', `Content-Encoding ${encoding} is not supported (gzip or none)`);
    }
    const raw = await readLimited(c.req.raw, options.maxBytes);
    c.set('protobufBody', encoding === 'gzip' ? await gunzipLimited(raw, options.maxBytes) : raw);
    await next();
  };
}

/** `application/x-protobuf`, in any letter case, with any parameters. */
export function isProtobufContentType(header: string | undefined): boolean {
  if (!header) return false;
  return header.split(';', 1)[0]!.trim().toLowerCase() === 'application/x-protobuf';
}

const tooLarge = apiErrors.tooLarge;

/**
 * Reads a request body up to `maxBytes` (413 beyond, whether or not a
 * Content-Length was sent), cancelling the rest of the stream.
 */
export async function readLimited(request: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);
  if (!request.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  return chunks.length === 1 ? chunks[0]! : new Uint8Array(Buffer.concat(chunks));
}

async function gunzipLimited(raw: Uint8Array, maxBytes: number): Promise<Uint8Array> {
  try {
    return new Uint8Array(await gunzipAsync(raw, { maxOutputLength: maxBytes }));
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(maxBytes);
    throw new HttpError(400, 'invalid-gzip', 'request body is not valid gzip', {}, { cause: error });
  }
}
