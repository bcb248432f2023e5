import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { fullReport, heartbeat, newUidBytes } from '../../support/messages.js';
import { buildApp, encode, postBytes, postMessage, PROTOBUF, readReply, storedRecords, uidText } from './support.js';

describe('POST /v1/opamp request Content-Type', () => {
  it.each([
    ['application/x-protobuf'],
    ['Application/X-Protobuf'],
    ['APPLICATION/X-PROTOBUF'],
    ['Application/X-Protobuf; charset=binary'],
    ['application/x-protobuf;proto=opamp.proto.v1.AgentToServer'],
  ])('accepts %s and stores the poll', async (contentType) => {
    // Prepare
    const { app, agents } = buildApp();
    const uid = newUidBytes();

    // Act
    const response = await postMessage(app, fullReport(uid, 1n), { 'content-type': contentType });

    // Assess
    expect(response.status).toBe(200);
    expect((await readReply(response)).instanceUid).toEqual(uid);
    expect(await agents.get(uidText(uid))).toMatchObject({ sequenceNum: 1n });
  });

  it.each([['application/octet-stream'], ['application/json'], ['text/plain'], ['application/x-protobuf-json'], ['application/protobuf']])(
    'answers 415 to %s and stores nothing',
    async (contentType) => {
      // Prepare
      const { app, agents } = buildApp();

      // Act
      const response = await postMessage(app, fullReport(newUidBytes(), 1n), { 'content-type': contentType });

      // Assess
      expect(response.status).toBe(415);
      expect(await storedRecords(agents)).toEqual([]);
    },
  );

  it('answers 415 when Content-Type is missing and stores nothing', async () => {
    // Prepare
    const { app, agents } = buildApp();
    const body = encode(fullReport(newUidBytes(), 1n));

    // Act
    const response = await app.request('/v1/opamp', { method: 'POST', body });

    // Assess
    expect(response.status).toBe(415);
    expect(await storedRecords(agents)).toEqual([]);
  });
});

describe('POST /v1/opamp request Content-Encoding', () => {
  it.each([['gzip'], ['GZIP'], [' gzip ']])('decodes a %s body', async (encoding) => {
    // Prepare
    const { app, agents } = buildApp();
    const uid = newUidBytes();
    const body = gzipSync(encode(fullReport(uid, 7n)));

    // Act
    const response = await postBytes(app, body, { 'content-encoding': encoding });

    // Assess
    expect(response.status).toBe(200);
    expect((await readReply(response)).instanceUid).toEqual(uid);
    expect(await agents.get(uidText(uid))).toMatchObject({ sequenceNum: 7n, attributes: { 'service.name': 'io.opentelemetry.collector' } });
  });

  it('accepts Content-Encoding: identity as uncompressed', async () => {
    // Prepare
    const { app, agents } = buildApp();
    const uid = newUidBytes();

    // Act
    const response = await postMessage(app, fullReport(uid, 1n), { 'content-encoding': 'identity' });

    // Assess
    expect(response.status).toBe(200);
    expect(await agents.get(uidText(uid))).toBeDefined();
  });

  it.each([['br'], ['deflate'], ['zstd'], ['gzip, br']])('answers 415 to %s and stores nothing', async (encoding) => {
    // Prepare
    const { app, agents } = buildApp();

    // Act
    const response = await postMessage(app, fullReport(newUidBytes(), 1n), { 'content-encoding': encoding });

    // Assess
    expect(response.status).toBe(415);
    expect(await storedRecords(agents)).toEqual([]);
  });
});

describe('POST /v1/opamp response encoding', () => {
  it('sends Content-Type exactly application/x-protobuf', async () => {
    // Prepare
    const { app } = buildApp();

    // Act
    const response = await postMessage(app, fullReport(newUidBytes(), 1n), { 'content-type': 'Application/X-Protobuf; charset=binary' });

    // Assess
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(PROTOBUF);
  });

  it.each([['gzip'], ['gzip, deflate, br'], ['br;q=1.0, gzip;q=0.5'], ['*'], ['x-gzip']])('gzips a reply of at least gzipMinBytes when Accept-Encoding is %s', async (acceptEncoding) => {
    // Prepare
    const { app } = buildApp({ limits: { gzipMinBytes: 0 } });
    const uid = newUidBytes();

    // Act
    const response = await postMessage(app, fullReport(uid, 1n), { 'accept-encoding': acceptEncoding });

    // Assess
    expect(response.status).toBe(200);
    expect(response.headers.get('content-encoding')).toBe('gzip');
    expect(response.headers.get('content-type')).toBe(PROTOBUF);
    const reply = await readReply(response); // gunzips, then decodes
    expect(reply.instanceUid).toEqual(uid);
    expect(reply.capabilities).not.toBe(0n);
  });

  it.each([
    ['no Accept-Encoding', {}],
    ['Accept-Encoding: gzip;q=0', { 'accept-encoding': 'gzip;q=0' }],
    ['Accept-Encoding: identity', { 'accept-encoding': 'identity' }],
    ['Accept-Encoding: br', { 'accept-encoding': 'br' }],
    ['Accept-Encoding: *, gzip;q=0', { 'accept-encoding': '*, gzip;q=0' }],
  ])('does not gzip with %s', async (_, headers: Record<string, string>) => {
    // Prepare
    const { app } = buildApp({ limits: { gzipMinBytes: 0 } });
    const uid = newUidBytes();

    // Act
    const response = await postMessage(app, fullReport(uid, 1n), headers);

    // Assess
    expect(response.status).toBe(200);
    expect(response.headers.get('content-encoding')).toBeNull();
    expect((await readReply(response)).instanceUid).toEqual(uid);
  });

  it('does not gzip a small heartbeat reply at the default threshold', async () => {
    // Prepare: a known agent, so that the heartbeat reply is just uid and capabilities.
    const { app } = buildApp();
    const uid = newUidBytes();
    expect((await postMessage(app, fullReport(uid, 1n))).status).toBe(200);

    // Act
    const response = await postMessage(app, heartbeat(uid, 2n), { 'accept-encoding': 'gzip' });

    // Assess
    expect(response.status).toBe(200);
    expect(response.headers.get('content-encoding')).toBeNull();
    const bytes = new Uint8Array(await response.clone().arrayBuffer());
    expect(bytes.byteLength).toBeLessThanOrEqual(24);
    expect((await readReply(response)).instanceUid).toEqual(uid);
  });

  it('says the reply varies by Accept-Encoding', async () => {
    // Prepare
    const { app } = buildApp();

    // Act
    const response = await postMessage(app, fullReport(newUidBytes(), 1n), { 'accept-encoding': 'gzip' });

    // Assess
    expect(response.headers.get('vary')).toMatch(/accept-encoding/i);
  });
});
