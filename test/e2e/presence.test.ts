import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordWrite } from '../../functions/core/poll-types.js';
import { startTestBackend } from '../support/local-backend.js';
import type { TestBackend } from '../support/local-backend.js';
import { ScriptedAgent } from '../support/scripted-agent.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;

async function agentView(backend: TestBackend, uid: string): Promise<{ liveness: string; lastSeenAt: string }> {
  const res = await fetch(`${backend.url}/api/v1/agents/${uid}`);
  expect(res.status).toBe(200);
  return (await res.json()) as { liveness: string; lastSeenAt: string };
}

async function listed(backend: TestBackend, liveness: string): Promise<string[]> {
  const res = await fetch(`${backend.url}/api/v1/agents?liveness=${liveness}`);
  return ((await res.json()) as { agents: Array<{ instanceUid: string }> }).agents.map((a) => a.instanceUid);
}

describe('liveness from presence batches, end to end', () => {
  let backend: TestBackend;
  /** Every agent-item write the backend makes. */
  const itemWrites: RecordWrite[] = [];

  beforeAll(async () => {
    backend = await startTestBackend({ OPAMP_PRESENCE_CACHE_SECONDS: '0' });
    const agents = backend.agents;
    const put = agents.put.bind(agents);
    agents.put = async (write) => {
      itemWrites.push(write);
      return put(write);
    };
  });
  afterAll(async () => {
    await backend?.close();
  });

  it('an agent goes stale and comes back online with no write to its item in between', async () => {
    // Prepare: a full report, then heartbeats every 30 s for three minutes.
    const agent = new ScriptedAgent(backend.opampUrl, { beforeSend: () => backend.clock.advance(30 * SECOND) });
    await agent.sendFullReport();
    const afterReport = itemWrites.length;
    for (let i = 0; i < 6; i++) expect((await agent.heartbeat()).status).toBe(200);
    const online = await agentView(backend, agent.uidText);

    // Act: silence for ten minutes, then heartbeats again.
    backend.clock.advance(10 * MINUTE);
    const stale = await agentView(backend, agent.uidText);
    const staleList = await listed(backend, 'stale');
    for (let i = 0; i < 4; i++) expect((await agent.heartbeat()).status).toBe(200);
    const back = await agentView(backend, agent.uidText);

    // Assess
    expect(online.liveness).toBe('online');
    expect(stale.liveness).toBe('stale');
    expect(staleList).toContain(agent.uidText);
    expect(back.liveness).toBe('online');
    expect(backend.clock.now() - Date.parse(back.lastSeenAt)).toBeLessThanOrEqual(30 * SECOND + MINUTE);
    expect(itemWrites.slice(afterReport).filter((w) => w.record.instanceUid === agent.uidText)).toEqual([]);
    expect(backend.presence.stats.items).toBeGreaterThan(0);
  });

  it('writes what it has not yet written when the backend stops', async () => {
    // Prepare
    const agent = new ScriptedAgent(backend.opampUrl);
    await agent.sendFullReport();
    const before = backend.presence.stats.items;
    expect(backend.presence.pending).toBeGreaterThan(0);

    // Act
    await backend.close();

    // Assess
    expect(backend.presence.pending).toBe(0);
    expect(backend.presence.stats.items).toBeGreaterThan(before);
    expect(backend.presence.stats.failures).toBe(0);
  });
});
