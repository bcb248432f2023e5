import { create, equals } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { ServerErrorResponseType, ServerToAgentSchema } from '../../../functions/gen/opamp/v1/opamp_pb.js';
import type { ServerToAgent } from '../../../functions/gen/opamp/v1/opamp_pb.js';
import { StoreUnavailableError, WriteConflictError } from '../../../functions/ports/errors.js';
import type { AgentDetailView } from '../../../functions/service/agent-views.js';
import { description, fullReport, health, heartbeat, newUidBytes } from '../../support/messages.js';
import { buildApp, FaultyAgentStore, postMessage, PROTOBUF, readReply, uidText } from './support.js';
import type { StoreOperation } from './support.js';

const RETRY_AFTER_SECONDS = 17;

const throttled = () => new StoreUnavailableError('dynamodb', 'ProvisionedThroughputExceededException');

function expectUnavailableReply(reply: ServerToAgent, uid: Uint8Array): void {
  expect(reply.instanceUid).toEqual(uid);
  expect(reply.errorResponse?.type).toBe(ServerErrorResponseType.ServerErrorResponseType_Unavailable);
  expect(reply.errorResponse?.Details).toEqual(expect.objectContaining({ case: 'retryInfo' }));
  expect(reply.errorResponse?.Details.value?.retryAfterNanoseconds).toBe(BigInt(RETRY_AFTER_SECONDS) * 1_000_000_000n);
  // Nothing but instance_uid and error_response.
  expect(equals(ServerToAgentSchema, reply, create(ServerToAgentSchema, { instanceUid: uid, errorResponse: reply.errorResponse! }))).toBe(true);
}

describe('POST /v1/opamp when the store is unavailable', () => {
  it.each<[StoreOperation]>([['get'], ['writeSections'], ['put']])('answers 503 with Retry-After and an Unavailable ServerToAgent when %s fails', async (operation) => {
    // Prepare
    const agents = new FaultyAgentStore().failNext(operation, throttled);
    const { app } = buildApp({ agents, limits: { retryAfterSeconds: RETRY_AFTER_SECONDS } });
    const uid = newUidBytes();

    // Act
    const response = await postMessage(app, fullReport(uid, 1n));

    // Assess
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe(String(RETRY_AFTER_SECONDS));
    expect(response.headers.get('content-type')).toBe(PROTOBUF);
    expectUnavailableReply(await readReply(response), uid);
    expect(agents.calls[operation]).toBeGreaterThan(0);
  });

  it('stores no record for a new agent when the section write fails', async () => {
    // Prepare
    const agents = new FaultyAgentStore().failNext('writeSections', throttled);
    const { app } = buildApp({ agents });
    const uid = newUidBytes();

    // Act
    const response = await postMessage(app, fullReport(uid, 1n));

    // Assess
    expect(response.status).toBe(503);
    expect(agents.calls.put).toBe(0);
    expect(await agents.get(uidText(uid))).toBeUndefined();
  });

  it('leaves the record unchanged when the record write fails after the sections were written', async () => {
    // Prepare: a known agent, then a poll that changes its description and health.
    const agents = new FaultyAgentStore();
    const { app } = buildApp({ agents });
    const uid = newUidBytes();
    expect((await postMessage(app, fullReport(uid, 1n))).status).toBe(200);
    const before = await agents.get(uidText(uid));
    const changed = fullReport(uid, 2n, {
      agentDescription: description({ 'service.name': 'checkout', 'service.version': '2.0.0' }, { 'host.name': 'host-2' }),
      health: health(false, { 'pipeline:traces': false }, 'exporter down'),
    });
    agents.failNext('put', throttled);
    const sectionWritesBefore = agents.calls.writeSections;

    // Act
    const response = await postMessage(app, changed);

    // Assess
    expect(response.status).toBe(503);
    expect(agents.calls.writeSections).toBe(sectionWritesBefore + 1);
    expect(await agents.get(uidText(uid))).toEqual(before);
  });

  it('shows the fleet API the committed state, not sections of a poll whose record write failed', async () => {
    // Prepare
    const agents = new FaultyAgentStore();
    const { app } = buildApp({ agents });
    const uid = newUidBytes();
    expect((await postMessage(app, fullReport(uid, 1n))).status).toBe(200);
    const committed = (await (await app.request(`/api/v1/agents/${uidText(uid)}`)).json()) as AgentDetailView;
    agents.failNext('put', throttled);
    const changed = fullReport(uid, 2n, {
      agentDescription: description({ 'service.name': 'checkout' }, { 'host.name': 'host-2' }),
      health: health(false, {}, 'exporter down'),
    });
    expect((await postMessage(app, changed)).status).toBe(503);

    // Act
    const response = await app.request(`/api/v1/agents/${uidText(uid)}`);

    // Assess
    expect(response.status).toBe(200);
    const view = (await response.json()) as AgentDetailView;
    expect(view.description).toEqual(committed.description);
    expect(view.health).toEqual(committed.health);
    expect(view.attributes['service.name']).toBe('io.opentelemetry.collector');
  });

  it('answers the retried message normally once the store is back', async () => {
    // Prepare
    const agents = new FaultyAgentStore().failNext('put', throttled, 1);
    const { app } = buildApp({ agents });
    const uid = newUidBytes();
    const message = fullReport(uid, 1n);
    expect((await postMessage(app, message)).status).toBe(503);

    // Act
    const response = await postMessage(app, message);

    // Assess
    expect(response.status).toBe(200);
    expect((await readReply(response)).errorResponse).toBeUndefined();
    expect(await agents.get(uidText(uid))).toMatchObject({ sequenceNum: 1n, version: 1 });
  });
});

describe('POST /v1/opamp under write conflicts', () => {
  it('answers 503 with Retry-After when every attempt loses its conditional write', async () => {
    // Prepare
    const agents = new FaultyAgentStore().failNext('put', () => new WriteConflictError('agent', 0));
    const { app } = buildApp({ agents, maxWriteAttempts: 3, limits: { retryAfterSeconds: RETRY_AFTER_SECONDS } });
    const uid = newUidBytes();

    // Act
    const response = await postMessage(app, fullReport(uid, 1n));

    // Assess
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe(String(RETRY_AFTER_SECONDS));
    expectUnavailableReply(await readReply(response), uid);
    expect(agents.calls.get).toBe(3);
    expect(agents.calls.put).toBe(3);
  });

  it('answers 200 when a conflict is resolved within the retry budget', async () => {
    // Prepare
    const agents = new FaultyAgentStore();
    const { app } = buildApp({ agents, maxWriteAttempts: 3 });
    const uid = newUidBytes();
    expect((await postMessage(app, fullReport(uid, 1n))).status).toBe(200);
    agents.failNext('put', () => new WriteConflictError(uidText(uid), 1), 2);

    // Act
    const response = await postMessage(app, fullReport(uid, 2n, { agentDescription: description({ 'service.name': 'cart' }) }));

    // Assess
    expect(response.status).toBe(200);
    expect(await agents.get(uidText(uid))).toMatchObject({ sequenceNum: 2n, attributes: { 'service.name': 'cart' } });
  });
});

describe('POST /v1/opamp when the store fails unexpectedly', () => {
  it.each<[StoreOperation]>([['get'], ['writeSections'], ['put']])('answers 500 without Retry-After when %s throws a non-retryable error', async (operation) => {
    // Prepare
    const agents = new FaultyAgentStore().failNext(operation, () => new Error('ValidationException: item too large'));
    const { app } = buildApp({ agents });

    // Act
    const response = await postMessage(app, fullReport(newUidBytes(), 1n));

    // Assess
    expect(response.status).toBe(500);
    expect(response.headers.get('retry-after')).toBeNull();
  });

  it('does not leak the error message in the 500 body', async () => {
    // Prepare
    const agents = new FaultyAgentStore().failNext('get', () => new Error('secret table arn:aws:dynamodb:eu-west-1:123456789012:table/x'));
    const { app } = buildApp({ agents });

    // Act
    const response = await postMessage(app, heartbeat(newUidBytes(), 1n));

    // Assess
    expect(response.status).toBe(500);
    expect(await response.text()).not.toContain('arn:aws');
  });
});
