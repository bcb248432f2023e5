import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { serve } from '@hono/node-server';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { acceptsGzip } from '../../../functions/http/protobuf-response.js';
import { fullReport, newUidBytes } from '../../support/messages.js';
import { buildApp, encode, postBytes, uidText } from './support.js';
import { expectEdgeAnswer, RunCounter, storeContent, within } from './fuzz-support.js';

/**
 * Fuzzing the agent endpoint's headers: every combination of content type,
 * content encoding, accepted encoding and body, then random header values,
 * then Content-Length that lies, over a real socket. Property: the status
 * the headers call for, never a 5xx, nothing written unless accepted, and a
 * gzipped reply only to a client that accepts gzip.
 */
const DEADLINE_MS = 3_000;
const TEST_TIMEOUT_MS = 60_000;
const runs = new RunCounter();
afterAll(() => runs.print('fuzz-headers'));

const CONTENT_TYPES = [undefined, 'application/x-protobuf', 'APPLICATION/X-PROTOBUF; charset=binary', 'application/json', ''];
const CONTENT_ENCODINGS = [undefined, 'gzip', ' GZIP ', 'identity', 'br', 'gzip, gzip', ''];
const ACCEPT_ENCODINGS = [undefined, 'gzip', '*', 'gzip;q=0', 'deflate, x-gzip'];
const BODIES = ['valid', 'gzipped', 'garbage', 'empty', 'broken gzip'] as const;

function bodyOf(kind: (typeof BODIES)[number]): Uint8Array<ArrayBuffer> {
  const valid = encode(fullReport(newUidBytes(), 0n));
  if (kind === 'valid') return valid;
  if (kind === 'gzipped') return new Uint8Array(gzipSync(valid));
  if (kind === 'garbage') return new Uint8Array([0x1a, 0x64, 0x00, 0xff]);
  if (kind === 'broken gzip') return new Uint8Array(gzipSync(valid)).slice(0, 12);
  return new Uint8Array();
}

/** What the headers call for: 415 for a content type or encoding the endpoint does not take, else whatever the body earns. */
function expectedStatus(contentType: string | undefined, encoding: string | undefined, body: (typeof BODIES)[number]): number[] {
  if (!contentType || contentType.split(';')[0]!.trim().toLowerCase() !== 'application/x-protobuf') return [415];
  const coding = (encoding ?? 'identity').trim().toLowerCase();
  if (coding !== 'identity' && coding !== 'gzip') return [415];
  if (coding === 'gzip') return body === 'gzipped' ? [200] : [400];
  return body === 'valid' ? [200] : [400];
}

function headersOf(contentType?: string, encoding?: string, accept?: string): Record<string, string> {
  return {
    ...(contentType !== undefined ? { 'content-type': contentType } : {}),
    ...(encoding !== undefined ? { 'content-encoding': encoding } : {}),
    ...(accept !== undefined ? { 'accept-encoding': accept } : {}),
  };
}

async function postWith(name: string, headers: Record<string, string>, body: Uint8Array<ArrayBuffer>): Promise<Response> {
  runs.count(name);
  const { app, agents } = buildApp({ limits: { gzipMinBytes: 0 } });
  // postBytes sets a protobuf content type; an absent one is sent as absent.
  const request = headers['content-type'] === undefined ? app.request('/v1/opamp', { method: 'POST', headers, body }) : postBytes(app, body, headers);
  const response = await within(DEADLINE_MS, Promise.resolve(request));
  await expectEdgeAnswer(response.clone(), agents);
  // Every reply is worth compressing here (gzipMinBytes 0): gzip exactly when the client accepts it.
  expect(response.headers.get('content-encoding') === 'gzip').toBe(
    response.status !== 415 && response.status !== 413 && response.headers.get('content-type') === 'application/x-protobuf' && acceptsGzip(headers['accept-encoding']),
  );
  return response;
}

describe('fuzzing POST /v1/opamp headers', () => {
  it(
    'answers every combination of content type, content encoding, accepted encoding and body as the headers call for',
    async () => {
      for (const contentType of CONTENT_TYPES) {
        for (const encoding of CONTENT_ENCODINGS) {
          for (const accept of ACCEPT_ENCODINGS) {
            for (const body of BODIES) {
              const response = await postWith('header combinations', headersOf(contentType, encoding, accept), bodyOf(body));
              expect(expectedStatus(contentType, encoding, body), `${contentType} | ${encoding} | ${accept} | ${body}`).toContain(response.status);
            }
          }
        }
      }
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'answers random header values without a 5xx, storing nothing it refuses',
    async () => {
      const headerValue = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom(...CONTENT_TYPES.filter((v) => v !== undefined), ...CONTENT_ENCODINGS.filter((v) => v !== undefined)));
      const printable = headerValue.map((v) => v.replace(/[^\x20-\x7e]/g, ''));
      const headers = fc.record(
        {
          'content-type': printable,
          'content-encoding': printable,
          'accept-encoding': printable,
          'opamp-instance-uid': fc.oneof(printable, fc.constant(uidText(newUidBytes()))),
          authorization: printable,
        },
        { requiredKeys: [] },
      );
      await fc.assert(
        fc.asyncProperty(headers, fc.constantFrom(...BODIES), async (h, body) => {
          await postWith('random header values', h, bodyOf(body));
        }),
        { numRuns: 300 },
      );
    },
    TEST_TIMEOUT_MS,
  );
});

describe('fuzzing Content-Length over a socket', () => {
  /** Sends raw HTTP/1.1 and ends the connection; resolves with what came back once the server closes it. */
  function exchange(port: number, raw: Uint8Array): Promise<string> {
    return new Promise((done, fail) => {
      const socket = connect(port, '127.0.0.1');
      let received = '';
      socket.on('data', (chunk) => (received += chunk.toString('latin1')));
      socket.once('error', fail);
      socket.once('close', () => done(received));
      socket.end(raw);
    });
  }

  it(
    'answers a body longer or shorter than its Content-Length without a 5xx or a hang, storing nothing it refuses',
    async () => {
      // A fresh app (and store) for every run: a request whose connection is gone may still be finishing.
      let current = buildApp();
      const server = serve({ fetch: (request) => current.app.fetch(request), hostname: '127.0.0.1', port: 0 });
      await new Promise((listening) => server.once('listening', listening));
      const { port } = server.address() as AddressInfo;
      try {
        await fc.assert(
          fc.asyncProperty(fc.integer({ min: -40, max: 40 }), fc.boolean(), async (lie, withGzip) => {
            runs.count('content-length mismatches');
            current = buildApp();
            const { agents } = current;
            const message = encode(fullReport(newUidBytes(), 0n));
            const body = withGzip ? gzipSync(message) : message;
            const declared = Math.max(0, body.byteLength + lie);
            const head = `POST /v1/opamp HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n${withGzip ? 'Content-Encoding: gzip\r\n' : ''}Content-Length: ${declared}\r\n\r\n`;
            const received = await within(DEADLINE_MS, exchange(port, Buffer.concat([Buffer.from(head, 'latin1'), body])));
            const statuses = [...received.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => Number(m[1]));
            for (const status of statuses) expect([200, 400, 413, 415]).toContain(status);
            // A Content-Length no longer than the body makes the first `declared` bytes a whole
            // request, which may be stored if it is acceptable by itself (its reply can be lost:
            // the client has already closed its side, and Node answers the rest of the bytes, a
            // broken next request, with 400 and a close). A longer one leaves the request
            // unfinished: nothing may be stored.
            const alone = lie <= 0 ? (await postBytes(buildApp().app, new Uint8Array(body.subarray(0, declared)), withGzip ? { 'content-encoding': 'gzip' } : {})).status : 0;
            if (alone !== 200 && !statuses.includes(200)) expect(await storeContent(agents)).toEqual({ records: 0, sections: 0 });
          }),
          {
            numRuns: 120,
            examples: [
              [0, false],
              [1, false],
              [-1, false],
              [0, true],
              [5, true],
              [-5, true],
            ],
          },
        );
        // Still serving.
        expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      } finally {
        server.close();
      }
    },
    TEST_TIMEOUT_MS,
  );
});
