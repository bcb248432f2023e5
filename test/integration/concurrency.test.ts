import { toBinary } from '@bufbuild/protobuf';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../functions/config.js';
import { instanceUidToText } from '../../functions/core/instance-uid.js';
import { createBackend } from '../../functions/entry/backend.js';
import type { Backend } from '../../functions/entry/backend.js';
import { AgentToServerSchema } from '../../functions/gen/opamp/v1/opamp_pb.js';
import type { AgentToServer } from '../../functions/gen/opamp/v1/opamp_pb.js';
import { NO_TELEMETRY } from '../../functions/observability/telemetry.js';
import { COLLECTOR_CAPS, agentToServer, fullReport, health, newUidBytes } from '../support/messages.js';
import { provisionStores } from './harness.js';
import type { Stores } from './harness.js';

/**
 * Many polls at once through the real app against dynalite: for many agents,
 * and for one agent at a time. No record may be torn (fields of two polls
 * mixed, or pointing at sections that do not exist) and no update that was
 * answered 200 may be lost.
 */

let stores: Stores;
let backend: Backend;

beforeAll(async () => {
  stores = await provisionStores();
  // Generous limits: this is about races, not speed, and the emulator shares a busy machine.
  const config = loadConfig({
    OPAMP_TABLE: stores.tableName,
    OPAMP_BUCKET: stores.bucketName,
    OPAMP_POLL_DEADLINE_SECONDS: '8',
    OPAMP_STORE_REQUEST_TIMEOUT_SECONDS: '8',
    OPAMP_STORE_CONNECT_TIMEOUT_SECONDS: '8',
  });
  backend = createBackend({ config, clients: stores.clients, telemetry: NO_TELEMETRY });
});

async function poll(message: AgentToServer): Promise<{ status: number; retryAfter: string | null }> {
  const res = await backend.app.request('/v1/opamp', {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf' },
    body: toBinary(AgentToServerSchema, message),
  });
  await res.arrayBuffer();
  return { status: res.status, retryAfter: res.headers.get('retry-after') };
}

async function reportedError(uid: Uint8Array): Promise<string | undefined> {
  const res = await backend.app.request(`/api/v1/agents/${instanceUidToText(uid)}`);
  expect(res.status).toBe(200);
  const view = (await res.json()) as { health: { lastError?: string } | null };
  return view.health?.lastError;
}

function change(uid: Uint8Array, sequenceNum: bigint, label: string): AgentToServer {
  return agentToServer({ instanceUid: uid, sequenceNum, capabilities: COLLECTOR_CAPS, health: health(false, {}, label) });
}

describe('concurrent polls', () => {
  it('50 agents polling at once each keep their own state', async () => {
    // Prepare
    const agents = Array.from({ length: 50 }, (_, i) => ({ uid: newUidBytes(), label: `agent-${i}` }));

    // Act: every agent reports, then changes its health, all agents at once. A
    // 503 (the emulator overwhelmed) is retried with the same message, as agents do.
    const untilAnswered = async (message: AgentToServer) => {
      for (let attempt = 0; ; attempt++) {
        const { status } = await poll(message);
        if (status !== 503 || attempt === 5) return status;
      }
    };
    const statuses = await Promise.all(agents.map(async ({ uid, label }) => [await untilAnswered(fullReport(uid, 1n)), await untilAnswered(change(uid, 2n, label))]));

    // Assess
    expect(statuses.flat().filter((status) => status !== 200)).toEqual([]);
    for (const { uid, label } of agents) expect(await reportedError(uid)).toBe(label);
  });

  it('20 polls for one agent at once: no torn record, no lost acknowledged update', async () => {
    // Prepare
    const uid = newUidBytes();
    expect((await poll(fullReport(uid, 1n))).status).toBe(200);
    const changes = Array.from({ length: 20 }, (_, i) => ({ seq: BigInt(i + 2), label: `change-${i + 2}` }));

    // Act
    const answers = await Promise.all(changes.map(async (c) => ({ ...c, ...(await poll(change(uid, c.seq, c.label))) })));

    // Assess: each poll was saved (200) or refused as retryable (503 with Retry-After).
    for (const answer of answers) {
      expect([200, 503]).toContain(answer.status);
      if (answer.status === 503) expect(Number(answer.retryAfter)).toBeGreaterThan(0);
    }
    const acknowledged = answers.filter((a) => a.status === 200);
    expect(acknowledged.length).toBeGreaterThan(0);
    const record = (await stores.agents.get(instanceUidToText(uid)))!;
    // Every acknowledged change committed a version of its own: none was overwritten unseen.
    expect(record.version).toBe(1 + acknowledged.length);
    // The record is one poll's whole state: its health and its sequence number come from the same acknowledged poll.
    const last = acknowledged.find((a) => a.seq === record.sequenceNum);
    expect(last).toBeDefined();
    expect(await reportedError(uid)).toBe(last!.label);

    // And the agent converges: a full report after the storm is stored as sent.
    expect((await poll(fullReport(uid, 30n, { health: health(true, {}, 'settled') }))).status).toBe(200);
    expect(await reportedError(uid)).toBe('settled');
    expect((await stores.agents.get(instanceUidToText(uid)))!.version).toBe(2 + acknowledged.length);
  });
});
