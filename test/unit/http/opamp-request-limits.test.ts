import { createGzip, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { fullReport, newUidBytes } from '../../support/messages.js';
import { buildApp, encode, postBytes, readReply, storedRecords, uidText } from './support.js';

const LIMIT = 1024;

/** A pull-driven stream of `chunks` chunks of `chunkSize` bytes; `pulled()` tells how many were handed out. */
function countingStream(chunks: number, chunkSize: number) {
  let pulled = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (pulled === chunks) {
          controller.close();
          return;
        }
        pulled += 1;
        controller.enqueue(new Uint8Array(chunkSize).fill(0x41));
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, pulled: () => pulled };
}

/** gzip of `megabytes` MiB of zeros, compressed from one reused 1 MiB buffer. */
async function gzipOfZeros(megabytes: number): Promise<Uint8Array<ArrayBuffer>> {
  const gzip = createGzip({ level: 9 });
  const parts: Buffer[] = [];
  gzip.on('data', (chunk: Buffer) => parts.push(chunk));
  const done = new Promise((resolve, reject) => {
    gzip.on('end', resolve);
    gzip.on('error', reject);
  });
  const zeros = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < megabytes; i++) {
    if (!gzip.write(zeros)) await new Promise((resolve) => gzip.once('drain', resolve));
  }
  gzip.end();
  await done;
  return new Uint8Array(Buffer.concat(parts));
}

describe('POST /v1/opamp body size limit', () => {
  it('accepts a body of exactly maxRequestBytes', async () => {
    // Prepare
    const uid = newUidBytes();
    const body = encode(fullReport(uid, 1n));
    const { app, agents } = buildApp({ limits: { maxRequestBytes: body.byteLength } });

    // Act
    const response = await postBytes(app, body);

    // Assess
    expect(response.status).toBe(200);
    expect(await agents.get(uidText(uid))).toBeDefined();
  });

  it('answers 413 to a body one byte over maxRequestBytes and stores nothing', async () => {
    // Prepare
    const body = encode(fullReport(newUidBytes(), 1n));
    const { app, agents } = buildApp({ limits: { maxRequestBytes: body.byteLength - 1 } });

    // Act
    const response = await postBytes(app, body);

    // Assess
    expect(response.status).toBe(413);
    expect(await storedRecords(agents)).toEqual([]);
  });

  it('answers 413 to an oversized body with Content-Length and stores nothing', async () => {
    // Prepare
    const { app, agents } = buildApp({ limits: { maxRequestBytes: LIMIT } });
    const body = new Uint8Array(LIMIT + 1);

    // Act
    const response = await postBytes(app, body, { 'content-length': String(body.byteLength) });

    // Assess
    expect(response.status).toBe(413);
    expect(await storedRecords(agents)).toEqual([]);
  });

  it('answers 413 from a Content-Length over the limit without reading the body', async () => {
    // Prepare
    const { app } = buildApp({ limits: { maxRequestBytes: LIMIT } });
    const { stream, pulled } = countingStream(1_000, 1024);

    // Act
    const response = await postBytes(app, stream, { 'content-length': String(1_000 * 1024) }, { duplex: 'half' } as RequestInit);

    // Assess
    expect(response.status).toBe(413);
    expect(pulled()).toBeLessThanOrEqual(1);
  });

  it('answers 413 to a streamed body without Content-Length once the limit is passed, and stores nothing', async () => {
    // Prepare
    const { app, agents } = buildApp({ limits: { maxRequestBytes: LIMIT } });
    const { stream, pulled } = countingStream(1_000, 256);

    // Act
    const response = await postBytes(app, stream, {}, { duplex: 'half' } as RequestInit);

    // Assess
    expect(response.status).toBe(413);
    expect(await storedRecords(agents)).toEqual([]);
    // Reading stopped near the limit instead of draining all 256 KB.
    expect(pulled()).toBeLessThan(LIMIT / 256 + 4);
  });

  it('accepts a streamed body without Content-Length under the limit', async () => {
    // Prepare
    const uid = newUidBytes();
    const bytes = encode(fullReport(uid, 1n));
    const { app, agents } = buildApp({ limits: { maxRequestBytes: LIMIT } });
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.slice(0, 10));
        controller.enqueue(bytes.slice(10));
        controller.close();
      },
    });

    // Act
    const response = await postBytes(app, stream, {}, { duplex: 'half' } as RequestInit);

    // Assess
    expect(response.status).toBe(200);
    expect((await readReply(response)).instanceUid).toEqual(uid);
    expect(await agents.get(uidText(uid))).toBeDefined();
  });

  it('applies the limit after decompression: a small gzip body inflating past it gets 413', async () => {
    // Prepare
    const { app, agents } = buildApp({ limits: { maxRequestBytes: LIMIT } });
    const body = gzipSync(new Uint8Array(LIMIT * 4));
    expect(body.byteLength).toBeLessThan(LIMIT);

    // Act
    const response = await postBytes(app, body, { 'content-encoding': 'gzip' });

    // Assess
    expect(response.status).toBe(413);
    expect(await storedRecords(agents)).toEqual([]);
  });
});

describe('POST /v1/opamp gzip bomb', () => {
  it('answers 413 quickly to 50 MB of zeros gzipped, without inflating it all', async () => {
    // Prepare: default limits (2 MiB after decompression).
    const { app, agents } = buildApp();
    const bomb = await gzipOfZeros(50);
    expect(bomb.byteLength).toBeLessThan(100 * 1024);
    const buffersBefore = process.memoryUsage().arrayBuffers;
    const started = performance.now();

    // Act
    const response = await postBytes(app, bomb, { 'content-encoding': 'gzip' });

    // Assess
    const elapsedMs = performance.now() - started;
    const grewBy = process.memoryUsage().arrayBuffers - buffersBefore;
    expect(response.status).toBe(413);
    expect(await storedRecords(agents)).toEqual([]);
    expect(elapsedMs).toBeLessThan(2_000);
    expect(grewBy).toBeLessThan(20 * 1024 * 1024);
  });
});

describe('POST /v1/opamp invalid gzip', () => {
  it.each([
    ['bytes that are not gzip at all', () => encode(fullReport(newUidBytes(), 1n))],
    ['a truncated gzip stream', () => gzipSync(encode(fullReport(newUidBytes(), 1n))).subarray(0, 20)],
    ['an empty body', () => new Uint8Array()],
  ])('answers 400 to %s and stores nothing', async (_, body) => {
    // Prepare
    const { app, agents } = buildApp();

    // Act
    const response = await postBytes(app, body() as Uint8Array<ArrayBuffer>, { 'content-encoding': 'gzip' });

    // Assess
    expect(response.status).toBe(400);
    expect(await storedRecords(agents)).toEqual([]);
  });
});
