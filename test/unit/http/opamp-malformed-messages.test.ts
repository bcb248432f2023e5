import { create, equals } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { ServerErrorResponseType, ServerToAgentSchema } from '../../../functions/gen/opamp/v1/opamp_pb.js';
import type { ServerToAgent } from '../../../functions/gen/opamp/v1/opamp_pb.js';
import { agentToServer, COLLECTOR_CAPS, newUidBytes } from '../../support/messages.js';
import { buildApp, postBytes, postMessage, PROTOBUF, readReply, storedRecords, uidText } from './support.js';

/** Field 3 (agent_description) announcing 100 bytes and holding one: no protobuf reader gets past it. */
const TRUNCATED_FIELD = [0x1a, 0x64, 0x00];

/** A body whose field 1 is a readable 16-byte uid, followed by a broken field. */
function uidThenGarbage(uid: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array([0x0a, 0x10, ...uid, ...TRUNCATED_FIELD]);
}

/** Asserts the reply is nothing but instance_uid and error_response (fields 3–11 unset). */
function expectOnlyUidAndError(reply: ServerToAgent): void {
  const bare = create(ServerToAgentSchema, { instanceUid: reply.instanceUid, errorResponse: reply.errorResponse! });
  expect(reply.errorResponse).toBeDefined();
  expect(reply.capabilities).toBe(0n);
  expect(reply.flags).toBe(0n);
  expect(equals(ServerToAgentSchema, reply, bare)).toBe(true);
}

describe('POST /v1/opamp with an undecodable body', () => {
  it('answers 400 with a BadRequest ServerToAgent addressed to the OpAMP-Instance-UID header', async () => {
    // Prepare
    const { app, agents } = buildApp();
    const uid = newUidBytes();

    // Act
    const response = await postBytes(app, new Uint8Array(TRUNCATED_FIELD), { 'OpAMP-Instance-UID': uidText(uid) });

    // Assess
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe(PROTOBUF);
    const reply = await readReply(response);
    expect(reply.instanceUid).toEqual(uid);
    expect(reply.errorResponse?.type).toBe(ServerErrorResponseType.ServerErrorResponseType_BadRequest);
    expect(reply.errorResponse?.errorMessage).not.toBe('');
    expectOnlyUidAndError(reply);
    expect(await storedRecords(agents)).toEqual([]);
  });

  it('reads the header uid in upper case too', async () => {
    // Prepare
    const { app } = buildApp();
    const uid = newUidBytes();

    // Act
    const response = await postBytes(app, new Uint8Array(TRUNCATED_FIELD), { 'opamp-instance-uid': uidText(uid).toUpperCase() });

    // Assess
    expect(response.status).toBe(400);
    expect((await readReply(response)).instanceUid).toEqual(uid);
  });

  it('prefers the header uid over the uid in the body', async () => {
    // Prepare
    const { app } = buildApp();
    const headerUid = newUidBytes();
    const bodyUid = newUidBytes();

    // Act
    const response = await postBytes(app, uidThenGarbage(bodyUid), { 'OpAMP-Instance-UID': uidText(headerUid) });

    // Assess
    expect(response.status).toBe(400);
    expect((await readReply(response)).instanceUid).toEqual(headerUid);
  });

  it('takes the uid from field 1 of the body when there is no header', async () => {
    // Prepare
    const { app, agents } = buildApp();
    const uid = newUidBytes();

    // Act
    const response = await postBytes(app, uidThenGarbage(uid));

    // Assess
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe(PROTOBUF);
    const reply = await readReply(response);
    expect(reply.instanceUid).toEqual(uid);
    expect(reply.errorResponse?.type).toBe(ServerErrorResponseType.ServerErrorResponseType_BadRequest);
    expectOnlyUidAndError(reply);
    expect(await storedRecords(agents)).toEqual([]);
  });

  it('falls back to the body uid when the header is not a UUID', async () => {
    // Prepare
    const { app } = buildApp();
    const uid = newUidBytes();

    // Act
    const response = await postBytes(app, uidThenGarbage(uid), { 'OpAMP-Instance-UID': 'not-a-uuid' });

    // Assess
    expect(response.status).toBe(400);
    expect((await readReply(response)).instanceUid).toEqual(uid);
  });

  it.each([
    ['no header and no readable uid', new Uint8Array(TRUNCATED_FIELD)],
    ['no header and a body uid of 8 bytes', new Uint8Array([0x0a, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, ...TRUNCATED_FIELD])],
    ['no header and random bytes', new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])],
  ])('answers a plain 400, not protobuf, with %s', async (_, body) => {
    // Prepare
    const { app, agents } = buildApp();

    // Act
    const response = await postBytes(app, body);

    // Assess
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type') ?? '').not.toMatch(/protobuf/i);
    expect(await storedRecords(agents)).toEqual([]);
  });
});

describe('POST /v1/opamp with a missing or wrong-length instance_uid', () => {
  it.each([[8], [15], [17], [32]])('answers 400 BadRequest to a %i-byte uid, echoing it, and stores nothing', async (length) => {
    // Prepare
    const { app, agents } = buildApp();
    const uid = new Uint8Array(length).fill(0xab);

    // Act
    const response = await postMessage(app, agentToServer({ instanceUid: uid, sequenceNum: 1n, capabilities: COLLECTOR_CAPS }));

    // Assess
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe(PROTOBUF);
    const reply = await readReply(response);
    expect(reply.instanceUid).toEqual(uid);
    expect(reply.errorResponse?.type).toBe(ServerErrorResponseType.ServerErrorResponseType_BadRequest);
    expectOnlyUidAndError(reply);
    expect(await storedRecords(agents)).toEqual([]);
  });

  it('answers 400 to a message without instance_uid and stores nothing', async () => {
    // Prepare
    const { app, agents } = buildApp();

    // Act
    const response = await postMessage(app, agentToServer({ sequenceNum: 1n, capabilities: COLLECTOR_CAPS }));

    // Assess
    expect(response.status).toBe(400);
    expect(await storedRecords(agents)).toEqual([]);
  });

  it('addresses the BadRequest for an empty body to the OpAMP-Instance-UID header', async () => {
    // Prepare: a 0-byte body decodes to a message without instance_uid, which is malformed.
    const { app, agents } = buildApp();
    const uid = newUidBytes();

    // Act
    const response = await postBytes(app, new Uint8Array(), { 'OpAMP-Instance-UID': uidText(uid) });

    // Assess
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe(PROTOBUF);
    const reply = await readReply(response);
    expect(reply.instanceUid).toEqual(uid);
    expect(reply.errorResponse?.type).toBe(ServerErrorResponseType.ServerErrorResponseType_BadRequest);
    expectOnlyUidAndError(reply);
    expect(await storedRecords(agents)).toEqual([]);
  });
});
