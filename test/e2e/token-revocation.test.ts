import { create } from '@bufbuild/protobuf';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionSettingsStatuses, ConnectionSettingsStatusSchema } from '../../functions/gen/opamp/v1/opamp_pb.js';
import type { ServerToAgent } from '../../functions/gen/opamp/v1/opamp_pb.js';
import { startTestBackend } from '../support/local-backend.js';
import type { TestBackend } from '../support/local-backend.js';
import { caps, COLLECTOR_CAPS, description, fullReport } from '../support/messages.js';
import { ScriptedAgent } from '../support/scripted-agent.js';
import { runOpampctl } from '../support/opampctl.js';

const STEERABLE = COLLECTOR_CAPS | caps('AgentCapabilities_AcceptsOpAMPConnectionSettings', 'AgentCapabilities_ReportsConnectionSettingsStatus');

describe('revoking an agent token that live agents still use', () => {
  let backend: TestBackend;
  afterEach(async () => {
    await backend.close();
  });

  async function ctl(...args: string[]): Promise<string> {
    return runOpampctl(backend.url, [...args, '--json']);
  }
  async function api(path: string, method = 'GET'): Promise<{ status: number; body: any }> {
    const res = await fetch(`${backend.url}${path}`, { method });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }
  const agent = (token: string) =>
    new ScriptedAgent(backend.opampUrl, {
      headers: { authorization: `Bearer ${token}` },
      report: (uid, seq) => fullReport(uid, seq, { capabilities: STEERABLE, agentDescription: description({ 'service.name': 'checkout' }) }),
    });
  const applied = (reply: ServerToAgent | undefined) =>
    create(ConnectionSettingsStatusSchema, { lastConnectionSettingsHash: reply!.connectionSettings!.hash, status: ConnectionSettingsStatuses.ConnectionSettingsStatuses_APPLIED });

  it('moves the live agent to the replacement first, ignores a departed one, then revokes and refuses the old token', async () => {
    backend = await startTestBackend({ OPAMP_AGENT_AUTH: 'token', OPAMP_FLEET_REVALIDATE_SECONDS: '0', OPAMP_HEARTBEAT_IDLE_SECONDS: '0' });
    const { token: oldToken } = JSON.parse(await ctl('token', 'create', 'fleet-old'));
    const { token: newToken } = JSON.parse(await ctl('token', 'create', 'fleet-new', '--deliverable'));
    const live = agent(oldToken);
    const departed = agent(oldToken);
    await departed.sendFullReport();
    backend.clock.advance(24 * 60 * 60_000);
    await live.sendFullReport();

    const refused = await api('/api/v1/tokens/fleet-old', 'DELETE');
    const selfReplacement = await api('/api/v1/tokens/fleet-old?replacement=fleet-old', 'DELETE');
    const rotating = JSON.parse(await ctl('token', 'revoke', 'fleet-old', '--replacement', 'fleet-new'));
    const holders = (await api('/api/v1/tokens/fleet-old/agents')).body;
    const stillRotating = await api('/api/v1/tokens/fleet-old', 'DELETE');
    // The live agent's next poll, with the old token, is offered the new one; it reconnects with it and says so.
    const offer = await live.heartbeat(STEERABLE);
    const headers = offer.reply?.connectionSettings?.opamp?.headers?.headers.map((h) => [h.key, h.value]);
    live.setHeaders({ authorization: `Bearer ${newToken}` });
    const moved = await live.send({ capabilities: STEERABLE, connectionSettingsStatus: applied(offer.reply) });
    const listed = JSON.parse(await ctl('tokens')).tokens as Array<{ name: string; live: number; liveAgents: string[]; agents: number; replacedBy?: string }>;
    const revoked = JSON.parse(await ctl('token', 'revoke', 'fleet-old'));
    const onNew = await live.heartbeat(STEERABLE);
    const returning = await departed.heartbeat(STEERABLE);

    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(/1 live agent\(s\) last authenticated with it .*\(1 agent\(s\) not seen within their liveness window do not count\)/);
    expect(selfReplacement.status).toBe(400);
    expect(rotating).toMatchObject({ status: 'rotating', replacement: 'fleet-new', agents: [live.uidText], settings: [] });
    expect(holders).toEqual({ name: 'fleet-old', agents: expect.arrayContaining([live.uidText, departed.uidText]), liveAgents: [live.uidText] });
    expect(stillRotating.status).toBe(202);
    expect(headers).toEqual([['Authorization', `Bearer ${newToken}`]]);
    expect(moved.status).toBe(200);
    expect(listed.find((t) => t.name === 'fleet-old')).toMatchObject({ replacedBy: 'fleet-new', live: 0, liveAgents: [], agents: 1 });
    expect(listed.find((t) => t.name === 'fleet-new')).toMatchObject({ live: 1, liveAgents: [live.uidText] });
    expect(revoked).toEqual({ name: 'fleet-old', status: 'revoked' });
    expect(onNew.status).toBe(200);
    expect(returning.status).toBe(401);
  });
});
