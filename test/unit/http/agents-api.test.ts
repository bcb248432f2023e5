import { create } from '@bufbuild/protobuf';
import type { Hono } from 'hono';
import { beforeEach, describe, expect, it } from 'vitest';
import { AgentToServerFlags, EffectiveConfigSchema, RemoteConfigStatusSchema, RemoteConfigStatuses } from '../../../functions/gen/opamp/v1/opamp_pb.js';
import type { AgentToServer } from '../../../functions/gen/opamp/v1/opamp_pb.js';
import { InvalidCursorError, StoreUnavailableError } from '../../../functions/ports/errors.js';
import type { AgentDetailView } from '../../../functions/service/agent-views.js';
import { agentToServer, COLLECTOR_CAPS, description, effectiveConfig, fullReport, health, heartbeat, newUidBytes } from '../../support/messages.js';
import { buildApp, FaultyAgentStore, postMessage, readReply, T0, uidText } from './support.js';

const MINUTE = 60_000;

interface ListBody {
  agents: Array<{ instanceUid: string; liveness: string; attributes: Record<string, string>; disconnectedAt?: string }>;
  nextCursor?: string;
}

async function poll(app: Hono, message: AgentToServer): Promise<void> {
  const response = await postMessage(app, message);
  expect(response.status, 'poll should succeed').toBe(200);
}

async function list(app: Hono, query = ''): Promise<{ status: number; body: ListBody }> {
  const response = await app.request(`/api/v1/agents${query}`);
  return { status: response.status, body: (await response.json()) as ListBody };
}

interface HealthJson {
  healthy: boolean;
  startTimeUnixNano: string;
  lastError: string;
  status: string;
  statusTimeUnixNano: string;
  attributes: unknown[];
  componentHealthMap: Record<string, HealthJson>;
}

function uidsOf(body: ListBody): string[] {
  return body.agents.map((a) => a.instanceUid).sort();
}

/** A collector with the given identifying service.name and non-identifying environment. */
function collector(uid: Uint8Array, service: string, environment: string): AgentToServer {
  return fullReport(uid, 1n, {
    agentDescription: description({ 'service.name': service }, { 'deployment.environment': environment, 'os.type': 'linux' }),
  });
}

describe('GET /api/v1/agents', () => {
  let clock: number;
  let app: Hono;
  const uid = { checkoutProd: '', checkoutStaging: '', cartProd: '', paymentsProd: '' };

  beforeEach(async () => {
    // A fleet of four: two checkout agents, a cart agent that goes silent and a payments agent that says goodbye.
    clock = T0;
    ({ app } = buildApp({ now: () => clock }));
    const checkoutProd = newUidBytes();
    const checkoutStaging = newUidBytes();
    const cartProd = newUidBytes();
    const paymentsProd = newUidBytes();
    await poll(app, collector(checkoutProd, 'checkout', 'prod'));
    await poll(app, collector(checkoutStaging, 'checkout', 'staging'));
    await poll(app, collector(cartProd, 'cart', 'prod'));
    await poll(app, collector(paymentsProd, 'payments', 'prod'));
    clock = T0 + 10 * MINUTE;
    await poll(app, heartbeat(checkoutProd, 2n));
    await poll(app, heartbeat(checkoutStaging, 2n));
    await poll(app, agentToServer({ instanceUid: paymentsProd, sequenceNum: 2n, capabilities: COLLECTOR_CAPS, agentDisconnect: {} }));
    uid.checkoutProd = uidText(checkoutProd);
    uid.checkoutStaging = uidText(checkoutStaging);
    uid.cartProd = uidText(cartProd);
    uid.paymentsProd = uidText(paymentsProd);
  });

  it('lists every agent that polled', async () => {
    // Act
    const { status, body } = await list(app);

    // Assess
    expect(status).toBe(200);
    expect(uidsOf(body)).toEqual(Object.values(uid).sort());
    expect(body.nextCursor).toBeUndefined();
    const checkout = body.agents.find((a) => a.instanceUid === uid.checkoutProd);
    expect(checkout?.attributes).toEqual({ 'service.name': 'checkout', 'deployment.environment': 'prod', 'os.type': 'linux' });
  });

  it('filters on an identifying attribute with selector=service.name=checkout', async () => {
    // Act
    const { status, body } = await list(app, '?selector=service.name%3Dcheckout');

    // Assess
    expect(status).toBe(200);
    expect(uidsOf(body)).toEqual([uid.checkoutProd, uid.checkoutStaging].sort());
  });

  it('filters on a non-identifying attribute', async () => {
    // Act
    const { body } = await list(app, `?selector=${encodeURIComponent('deployment.environment=prod')}`);

    // Assess
    expect(uidsOf(body)).toEqual([uid.checkoutProd, uid.cartProd, uid.paymentsProd].sort());
  });

  it('ANDs two selector terms, identifying and non-identifying', async () => {
    // Act
    const { status, body } = await list(app, `?selector=${encodeURIComponent('service.name=checkout,deployment.environment=prod')}`);

    // Assess
    expect(status).toBe(200);
    expect(uidsOf(body)).toEqual([uid.checkoutProd]);
  });

  it('answers an empty list when nothing matches', async () => {
    // Act
    const { status, body } = await list(app, `?selector=${encodeURIComponent('service.name=inventory')}`);

    // Assess
    expect(status).toBe(200);
    expect(body).toEqual({ agents: [] });
  });

  it.each([
    ['online', ['checkoutProd', 'checkoutStaging']],
    ['stale', ['cartProd']],
    ['disconnected', ['paymentsProd']],
  ] as const)('filters liveness=%s', async (liveness, expected) => {
    // Act
    const { status, body } = await list(app, `?liveness=${liveness}`);

    // Assess
    expect(status).toBe(200);
    expect(uidsOf(body)).toEqual(expected.map((k) => uid[k]).sort());
    for (const agent of body.agents) expect(agent.liveness).toBe(liveness);
  });

  it('combines selector and liveness', async () => {
    // Act
    const { body } = await list(app, `?selector=${encodeURIComponent('deployment.environment=prod')}&liveness=online`);

    // Assess
    expect(uidsOf(body)).toEqual([uid.checkoutProd]);
  });

  it('marks a disconnected agent with disconnectedAt', async () => {
    // Act
    const { body } = await list(app, '?liveness=disconnected');

    // Assess
    expect(body.agents[0]?.disconnectedAt).toBe(new Date(T0 + 10 * MINUTE).toISOString());
  });

  it('follows liveness as the clock moves: everyone still polling is online again', async () => {
    // Prepare
    clock = T0 + 11 * MINUTE;
    const cart = Uint8Array.from(Buffer.from(uid.cartProd.replaceAll('-', ''), 'hex'));
    await poll(app, heartbeat(cart, 2n));

    // Act
    const { body } = await list(app, '?liveness=stale');

    // Assess
    expect(body.agents).toEqual([]);
  });
});

describe('GET /api/v1/agents pagination', () => {
  it('walks every agent exactly once with limit and nextCursor', async () => {
    // Prepare
    const { app } = buildApp();
    const all: string[] = [];
    for (let i = 0; i < 7; i++) {
      const uid = newUidBytes();
      all.push(uidText(uid));
      await poll(app, collector(uid, `svc-${i}`, 'prod'));
    }

    // Act
    const seen: string[] = [];
    const pageSizes: number[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const query = `?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const { status, body } = await list(app, query);
      expect(status).toBe(200);
      seen.push(...body.agents.map((a) => a.instanceUid));
      pageSizes.push(body.agents.length);
      cursor = body.nextCursor;
      if (!cursor) break;
    }

    // Assess
    expect(cursor).toBeUndefined();
    expect(pageSizes).toEqual([2, 2, 2, 1]);
    expect(seen.slice().sort()).toEqual(all.sort());
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('paginates a filtered listing through every match exactly once', async () => {
    // Prepare
    const { app } = buildApp();
    const matching: string[] = [];
    for (let i = 0; i < 9; i++) {
      const uid = newUidBytes();
      const service = i % 2 === 0 ? 'checkout' : 'cart';
      if (service === 'checkout') matching.push(uidText(uid));
      await poll(app, collector(uid, service, 'prod'));
    }

    // Act
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const query = `?selector=service.name%3Dcheckout&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const { body } = await list(app, query);
      seen.push(...body.agents.map((a) => a.instanceUid));
      cursor = body.nextCursor;
      if (!cursor) break;
    }

    // Assess
    expect(cursor).toBeUndefined();
    expect(seen.slice().sort()).toEqual(matching.sort());
    expect(new Set(seen).size).toBe(seen.length);
  });
});

describe('GET /api/v1/agents query validation', () => {
  it.each([
    ['limit=0', 'invalid-request'],
    ['limit=-1', 'invalid-request'],
    ['limit=1001', 'invalid-request'],
    ['limit=abc', 'invalid-request'],
    ['limit=2.5', 'invalid-request'],
    ['limit=', 'invalid-request'],
    ['liveness=dead', 'invalid-request'],
    ['liveness=', 'invalid-request'],
    ['cursor=', 'invalid-request'],
    ['selector=', 'invalid-selector'],
    ['selector=service.name', 'invalid-selector'],
    [`selector=${encodeURIComponent('=checkout')}`, 'invalid-selector'],
    [`selector=${encodeURIComponent('service.name=checkout,env')}`, 'invalid-selector'],
  ])('answers 400 JSON to ?%s', async (query, code) => {
    // Prepare
    const { app } = buildApp();

    // Act
    const response = await app.request(`/api/v1/agents?${query}`);

    // Assess
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body).toEqual({ error: { code, message: expect.any(String) } });
    expect(body.error.message.length).toBeGreaterThan(0);
  });

  it('answers 400 invalid-cursor JSON to a cursor the store did not hand out', async () => {
    // Prepare
    const agents = new FaultyAgentStore().failNext('list', () => new InvalidCursorError());
    const { app } = buildApp({ agents });

    // Act
    const response = await app.request('/api/v1/agents?cursor=bm90LWEtY3Vyc29y');

    // Assess
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: { code: 'invalid-cursor', message: expect.any(String) } });
  });

  it('accepts limit=1000', async () => {
    // Prepare
    const { app } = buildApp();

    // Act
    const { status } = await list(app, '?limit=1000');

    // Assess
    expect(status).toBe(200);
  });

  it('answers 503 JSON with Retry-After when the store is unavailable', async () => {
    // Prepare
    const agents = new FaultyAgentStore().failNext('list', () => new StoreUnavailableError('dynamodb', 'Scan throttled'));
    const { app } = buildApp({ agents, limits: { retryAfterSeconds: 9 } });

    // Act
    const response = await app.request('/api/v1/agents');

    // Assess
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('9');
    expect(await response.json()).toEqual({ error: { code: 'unavailable', message: expect.any(String) } });
  });
});

describe('GET /api/v1/agents/{instanceUid}', () => {
  it('shows description, capabilities, health, effective config, remote config status, sequence, times and liveness', async () => {
    // Prepare
    let clock = T0;
    const { app } = buildApp({ now: () => clock });
    const uid = newUidBytes();
    await poll(
      app,
      fullReport(uid, 1n, {
        agentDescription: description({ 'service.name': 'checkout', 'service.version': '1.4.2' }, { 'host.name': 'host-7', 'host.cpus': 8 }),
        health: health(false, { 'pipeline:traces': true, 'exporter:otlp': false }, 'exporter down'),
        effectiveConfig: effectiveConfig({ 'collector.yaml': 'receivers:\n  otlp: {}\n' }),
        remoteConfigStatus: create(RemoteConfigStatusSchema, {
          lastRemoteConfigHash: new Uint8Array([0xde, 0xad, 0xbe, 0xef]),
          status: RemoteConfigStatuses.RemoteConfigStatuses_APPLIED,
        }),
      }),
    );
    clock = T0 + 6 * MINUTE;
    await poll(app, heartbeat(uid, 2n));

    // Act
    const response = await app.request(`/api/v1/agents/${uidText(uid)}`);

    // Assess
    expect(response.status).toBe(200);
    const view = (await response.json()) as AgentDetailView;
    expect(view).toMatchObject({
      instanceUid: uidText(uid),
      liveness: 'online',
      healthy: false,
      // The heartbeat changed nothing, so the record (and its sequence number) was not written;
      // the presence batch knows the agent polled.
      sequenceNum: '1',
      firstSeenAt: new Date(T0).toISOString(),
      lastSeenAt: new Date(T0 + 6 * MINUTE).toISOString(),
      attributes: { 'service.name': 'checkout', 'service.version': '1.4.2', 'host.name': 'host-7', 'host.cpus': '8' },
      description: {
        identifyingAttributes: { 'service.name': 'checkout', 'service.version': '1.4.2' },
        nonIdentifyingAttributes: { 'host.name': 'host-7', 'host.cpus': 8 },
      },
      effectiveConfig: {
        files: { 'collector.yaml': { contentType: 'text/yaml', encoding: 'utf8', body: 'receivers:\n  otlp: {}\n' } },
      },
      remoteConfigStatus: { hash: 'deadbeef', status: 'APPLIED', errorMessage: '' },
    });
    expect([...view.capabilities].sort()).toEqual(['ReportsStatus', 'AcceptsRemoteConfig', 'ReportsEffectiveConfig', 'ReportsHealth', 'ReportsRemoteConfig', 'ReportsHeartbeat'].sort());
    // Health is the ComponentHealth tree in protobuf JSON with every field shown, defaults included,
    // so that an unhealthy component reads `healthy: false` rather than leaving the field out.
    const component = (healthy: boolean): HealthJson => ({
      healthy,
      startTimeUnixNano: '0',
      lastError: '',
      status: healthy ? 'StatusOK' : 'StatusRecoverableError',
      statusTimeUnixNano: '0',
      attributes: [],
      componentHealthMap: {},
    });
    expect(view.health as unknown as HealthJson).toStrictEqual({
      healthy: false,
      startTimeUnixNano: '1700000000000000000',
      lastError: 'exporter down',
      status: 'StatusRecoverableError',
      statusTimeUnixNano: '0',
      attributes: [],
      componentHealthMap: {
        'pipeline:traces': component(true),
        'exporter:otlp': component(false),
      },
    });
  });

  it('shows a binary effective config file as base64', async () => {
    // Prepare
    const { app } = buildApp();
    const uid = newUidBytes();
    const binary = new Uint8Array([0xff, 0xfe, 0x00, 0x80]);
    await poll(
      app,
      fullReport(uid, 1n, {
        effectiveConfig: create(EffectiveConfigSchema, { configMap: { configMap: { blob: { body: binary, contentType: 'application/octet-stream' } } } }),
      }),
    );

    // Act
    const view = (await (await app.request(`/api/v1/agents/${uidText(uid)}`)).json()) as AgentDetailView;

    // Assess
    expect(view.effectiveConfig?.files.blob).toEqual({
      contentType: 'application/octet-stream',
      encoding: 'base64',
      body: Buffer.from(binary).toString('base64'),
    });
  });

  it('shows an agent that never reported a description with null sections', async () => {
    // Prepare
    const { app } = buildApp();
    const uid = newUidBytes();
    await poll(app, heartbeat(uid, 1n));

    // Act
    const response = await app.request(`/api/v1/agents/${uidText(uid)}`);

    // Assess
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ description: null, health: null, effectiveConfig: null, remoteConfigStatus: null, attributes: {} });
  });

  it('finds an agent by its uid in upper case', async () => {
    // Prepare
    const { app } = buildApp();
    const uid = newUidBytes();
    await poll(app, fullReport(uid, 1n));

    // Act
    const response = await app.request(`/api/v1/agents/${uidText(uid).toUpperCase()}`);

    // Assess
    expect(response.status).toBe(200);
    expect(((await response.json()) as AgentDetailView).instanceUid).toBe(uidText(uid));
  });

  it('answers 404 JSON for an unknown uid', async () => {
    // Prepare
    const { app } = buildApp();

    // Act
    const response = await app.request('/api/v1/agents/0190a8b4-1c2d-7e3f-8a4b-5c6d7e8f9a0b');

    // Assess
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({ error: { code: 'agent-not-found', message: expect.any(String) } });
  });

  it('answers 404 for a temporary uid that was replaced, and serves the assigned one', async () => {
    // Prepare
    const { app } = buildApp();
    const temporary = newUidBytes();
    const response = await postMessage(app, fullReport(temporary, 1n, { flags: BigInt(AgentToServerFlags.AgentToServerFlags_RequestInstanceUid) }));
    const assigned = (await readReply(response)).agentIdentification?.newInstanceUid;
    expect(assigned).toHaveLength(16);

    // Act
    const old = await app.request(`/api/v1/agents/${uidText(temporary)}`);
    const current = await app.request(`/api/v1/agents/${uidText(assigned!)}`);

    // Assess
    expect(old.status).toBe(404);
    expect(current.status).toBe(200);
  });

  it.each([
    ['not-a-uuid'],
    ['0190a8b41c2d7e3f8a4b5c6d7e8f9a0b'],
    ['0190a8b4-1c2d-7e3f-8a4b-5c6d7e8f9a0'],
    ['0190a8b4-1c2d-7e3f-8a4b-5c6d7e8f9a0bb'],
    ['g190a8b4-1c2d-7e3f-8a4b-5c6d7e8f9a0b'],
    ['%7B0190a8b4-1c2d-7e3f-8a4b-5c6d7e8f9a0b%7D'],
  ])('answers 400 JSON for the non-UUID uid %s', async (uid) => {
    // Prepare
    const { app } = buildApp();

    // Act
    const response = await app.request(`/api/v1/agents/${uid}`);

    // Assess
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: { code: 'invalid-instance-uid', message: expect.any(String) } });
  });
});
