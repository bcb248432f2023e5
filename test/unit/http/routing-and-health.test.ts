import { describe, expect, it } from 'vitest';
import { MemoryAgentStore } from '../../../functions/adapters/memory/agent-store.js';
import { createApp, DEFAULT_HTTP_LIMITS } from '../../../functions/http/app.js';
import { NO_TELEMETRY } from '../../../functions/observability/telemetry.js';
import { StoreUnavailableError } from '../../../functions/ports/errors.js';
import { fullReport, newUidBytes } from '../../support/messages.js';
import { buildApp, encode, FaultyAgentStore, PROTOBUF, storedRecords } from './support.js';

describe('method routing on /v1/opamp', () => {
  it.each([['GET'], ['PUT'], ['DELETE'], ['PATCH']])('answers %s with 405 and Allow: POST', async (method) => {
    // Prepare
    const { app, agents } = buildApp();
    const body = method === 'GET' ? null : encode(fullReport(newUidBytes(), 1n));

    // Act
    const response = await app.request('/v1/opamp', { method, headers: { 'content-type': PROTOBUF }, body });

    // Assess
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
    expect(await storedRecords(agents)).toEqual([]);
  });
});

describe('method routing on GET-only paths', () => {
  it.each([['/healthz'], ['/api/v1/agents'], ['/api/v1/agents/0190a8b4-1c2d-7e3f-8a4b-5c6d7e8f9a0b']])('answers POST %s with 405 and an Allow header naming GET', async (path) => {
    // Prepare
    const { app } = buildApp();

    // Act
    const response = await app.request(path, { method: 'POST', body: '{}' });

    // Assess
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toMatch(/\bGET\b/);
  });
});

describe('unknown paths', () => {
  it.each([
    ['GET', '/'],
    ['POST', '/v1/opamp/extra'],
    ['POST', '/v2/opamp'],
    ['GET', '/api/v1/agent'],
  ])('answers %s %s with 404', async (method, path) => {
    // Prepare
    const { app } = buildApp();

    // Act
    const response = await app.request(path, { method });

    // Assess
    expect(response.status).toBe(404);
  });

  it('does not serve the agent route when the app has no poll service', async () => {
    // Prepare: the fleet API deployment.
    const agents = new MemoryAgentStore();
    const app = createApp({ agents, limits: DEFAULT_HTTP_LIMITS, telemetry: NO_TELEMETRY });

    // Act
    const response = await app.request('/v1/opamp', {
      method: 'POST',
      headers: { 'content-type': PROTOBUF },
      body: encode(fullReport(newUidBytes(), 1n)),
    });

    // Assess
    expect(response.status).toBe(404);
    expect(await storedRecords(agents)).toEqual([]);
  });
});

describe('GET /healthz', () => {
  it('answers 200 {"status":"ok"} when the store answers', async () => {
    // Prepare
    const { app } = buildApp();

    // Act
    const response = await app.request('/healthz');

    // Assess
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('answers 503 when the store is unavailable', async () => {
    // Prepare
    const agents = new FaultyAgentStore().failNext('ping', new StoreUnavailableError('dynamodb', 'DescribeTable throttled'));
    const { app } = buildApp({ agents });

    // Act
    const response = await app.request('/healthz');

    // Assess
    expect(response.status).toBe(503);
    expect(agents.calls.ping).toBe(1);
  });

  it('answers 503 when the store ping fails in any other way', async () => {
    // Prepare: e.g. the table is missing or access is denied; the store did not answer.
    const failure = Object.assign(new Error('Requested resource not found'), { name: 'ResourceNotFoundException' });
    const agents = new FaultyAgentStore().failNext('ping', failure);
    const { app } = buildApp({ agents });

    // Act
    const response = await app.request('/healthz');

    // Assess
    expect(response.status).toBe(503);
  });
});
