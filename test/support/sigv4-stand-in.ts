import { createServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';

export interface CheckedRequest {
  method: string;
  path: string;
  /** Why the signature was refused; undefined when it was valid. */
  refusal?: string;
}

/** `20261202T145000Z` as a Date. */
function amzDate(text: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) throw new Error(`bad x-amz-date ${text}`);
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * What an IAM-authenticated Function URL does in front of the fleet API:
 * it recomputes each request's SigV4 signature with the credentials it
 * knows, refuses the request (403) on any difference, and passes good ones on
 * to the real backend.
 */
export async function startSigV4StandIn(options: {
  host: string;
  upstream: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}): Promise<{ url: string; requests: CheckedRequest[]; close(): Promise<void> }> {
  const signer = new SignatureV4({ service: 'lambda', region: options.region, credentials: options.credentials, sha256: Hash.bind(null, 'sha256') });
  const requests: CheckedRequest[] = [];
  const check = async (request: IncomingMessage, body: string, url: URL): Promise<string | undefined> => {
    const authorization = request.headers.authorization ?? '';
    const parts = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/\d{8}\/([^/]+)\/lambda\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(authorization);
    if (!parts) return 'no SigV4 authorization header';
    if (parts[1] !== options.credentials.accessKeyId) return 'unknown access key';
    if (parts[2] !== options.region) return 'wrong region';
    const signedNames = parts[3]!.split(';');
    if (!signedNames.includes('host')) return 'host not signed';
    const headers: Record<string, string> = {};
    for (const name of signedNames) headers[name] = String(request.headers[name] ?? '');
    const query: Record<string, string> = {};
    url.searchParams.forEach((value, key) => {
      query[key] = value;
    });
    const expected = await signer.sign(
      { method: request.method!, protocol: 'http:', hostname: url.hostname, path: url.pathname, query, headers, ...(body ? { body } : {}) },
      { signingDate: amzDate(String(request.headers['x-amz-date'] ?? '')) },
    );
    return expected.headers.authorization === authorization ? undefined : 'signature does not match';
  };
  const server: Server = createServer(async (request, response) => {
    const url = new URL(request.url!, `http://${request.headers.host}`);
    const body = await readBody(request);
    const refusal = await check(request, body, url).catch((error: Error) => error.message);
    requests.push({ method: request.method!, path: url.pathname, ...(refusal ? { refusal } : {}) });
    if (refusal) {
      response.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ Message: `Forbidden: ${refusal}` }));
      return;
    }
    const forwarded = await fetch(`${options.upstream}${url.pathname}${url.search}`, {
      method: request.method!,
      headers: { 'content-type': String(request.headers['content-type'] ?? 'application/json') },
      ...(body ? { body } : {}),
    });
    response.writeHead(forwarded.status, { 'content-type': forwarded.headers.get('content-type') ?? 'application/json' }).end(Buffer.from(await forwarded.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(0, options.host, resolve));
  return {
    url: `http://${options.host}:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
