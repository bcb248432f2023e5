import { gzipSync } from 'node:zlib';
import type { Context } from 'hono';

export interface ProtobufResponseOptions {
  /**
   * Bodies smaller than this are sent uncompressed even when the client
   * accepts gzip: gzip's own framing (about 20 bytes) would make a typical
   * heartbeat reply larger, not smaller.
   */
  gzipMinBytes: number;
}

export function protobufResponse(c: Context, body: Uint8Array, options: ProtobufResponseOptions, status: 200 | 400 | 503 = 200, headers: Record<string, string> = {}): Response {
  const out = new Headers({ 'content-type': 'application/x-protobuf', ...headers });
  let payload: Uint8Array = body;
  if (body.byteLength >= options.gzipMinBytes && acceptsGzip(c.req.header('accept-encoding'))) {
    payload = new Uint8Array(gzipSync(body));
    out.set('content-encoding', 'gzip');
  }
  out.set('vary', 'Accept-Encoding');
  return new Response(payload, { status, headers: out });
}

/** Whether Accept-Encoding allows gzip (q=0 refuses it; `*` stands for any coding). */
export function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  let gzip: number | undefined;
  let any: number | undefined;
  for (const part of header.split(',')) {
    const [name = '', ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const weight = q ? Number(q.slice(2)) : 1;
    if (name.trim() === 'gzip' || name.trim() === 'x-gzip') gzip = weight;
    else if (name.trim() === '*') any = weight;
  }
  const weight = gzip ?? any ?? 0;
  return Number.isFinite(weight) && weight > 0;
}
