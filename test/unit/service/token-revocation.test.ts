import { describe, expect, it } from 'vitest';
import { MemoryAgentStore } from '../../../functions/adapters/memory/agent-store.js';
import { MemoryTokenStore } from '../../../functions/adapters/memory/token-store.js';
import type { AgentRecord } from '../../../functions/core/agent-record.js';
import { EMPTY_FLEET } from '../../../functions/core/fleet.js';
import type { FleetState } from '../../../functions/core/fleet.js';
import type { LivenessPolicy } from '../../../functions/core/liveness.js';
import { RejectedRequestError } from '../../../functions/core/errors.js';
import { TokenAdmin, TokenInUseError } from '../../../functions/service/agent-tokens.js';

const T0 = Date.UTC(2026, 0, 1);
const POLICY: LivenessPolicy = { presenceWindowMs: 60_000, expectedPollIntervalMs: 30_000, missedPollsBeforeStale: 3 };
const UID = (n: number) => `01890a5d-ac96-774b-bcce-${String(n).padStart(12, '0')}`;

async function agentOn(store: MemoryAgentStore, n: number, tokenName: string, lastSeenAt: number): Promise<string> {
  const record = {
    instanceUid: UID(n),
    version: 1,
    sequenceNum: 0n,
    lastMessageDigest: '',
    capabilities: 0n,
    firstSeenAt: lastSeenAt,
    lastSeenAt,
    attributes: {},
    sections: {},
    sectionIds: {},
    tokenName,
    expiresAt: 0,
  } as AgentRecord;
  await store.put({ record, expectedVersion: 0 } as never);
  return record.instanceUid;
}

async function setup(settings: FleetState['settings'] = new Map()) {
  const tokens = new MemoryTokenStore();
  const agents = new MemoryAgentStore();
  let now = T0;
  const fleet = { current: async () => ({ ...EMPTY_FLEET, settings }) };
  const admin = new TokenAdmin(tokens, () => now, { agents, fleet, liveness: { policy: POLICY, now: () => now } });
  await admin.create('old');
  await admin.create('new', { deliverable: true });
  await admin.create('plain');
  return { admin, agents, tokens, advance: (ms: number) => (now += ms) };
}

describe('TokenAdmin.revoke', () => {
  it('counts only live agents: one that has not polled for a day does not keep a token', async () => {
    const { admin, agents } = await setup();
    await agentOn(agents, 1, 'old', T0 - 24 * 60 * 60_000);

    expect(await admin.revoke('old')).toEqual({ status: 'revoked' });
  });

  it('refuses while a live agent uses it, naming it, and without a replacement', async () => {
    const { admin, agents } = await setup();
    const live = await agentOn(agents, 1, 'old', T0);
    await agentOn(agents, 2, 'old', T0 - 24 * 60 * 60_000);

    const refused = admin.revoke('old');

    await expect(refused).rejects.toThrow(TokenInUseError);
    await expect(admin.revoke('old')).rejects.toThrow(`1 live agent(s) last authenticated with it (e.g. ${live}) (1 agent(s) not seen within their liveness window do not count)`);
  });

  it('moves live agents to a deliverable replacement first, and revokes once none is left', async () => {
    const { admin, agents, tokens } = await setup();
    const live = await agentOn(agents, 1, 'old', T0);

    const first = await admin.revoke('old', { replacement: 'new' });
    const marked = (await tokens.list()).find((t) => t.name === 'old');
    const again = await admin.revoke('old');
    // The agent took the offer: its next poll authenticated with the new token.
    const record = (await agents.get(live))!;
    await agents.put({ record: { ...record, tokenName: 'new', version: record.version + 1 }, expectedVersion: record.version } as never);
    const done = await admin.revoke('old');

    expect(first).toEqual({ status: 'rotating', replacement: 'new', agents: [live], settings: [] });
    expect(marked?.replacedBy).toBe('new');
    expect(again).toMatchObject({ status: 'rotating', replacement: 'new' });
    expect(done).toEqual({ status: 'revoked' });
    expect((await tokens.list()).map((t) => t.name).sort()).toEqual(['new', 'plain']);
  });

  it('refuses a replacement that cannot be handed out, itself, or one that does not exist, changing nothing', async () => {
    const { admin, agents, tokens } = await setup();
    await agentOn(agents, 1, 'old', T0);

    for (const replacement of ['plain', 'old', 'missing']) {
      await expect(admin.revoke('old', { replacement })).rejects.toThrow(RejectedRequestError);
    }
    await expect(admin.revoke('old', { replacement: 'plain' })).rejects.toThrow(/not deliverable/);
    expect((await tokens.list()).find((t) => t.name === 'old')?.replacedBy).toBeUndefined();
  });

  it('keeps rotating while a settings document still hands the token out', async () => {
    const { admin } = await setup(new Map([['rotation', { opamp: { token: 'old' } }]]));

    expect(await admin.revoke('old', { replacement: 'new' })).toEqual({ status: 'rotating', replacement: 'new', agents: [], settings: ['rotation'] });
  });

  it('says undefined for a token that does not exist, and force revokes at once', async () => {
    const { admin, agents } = await setup();
    await agentOn(agents, 1, 'old', T0);

    expect(await admin.revoke('missing')).toBeUndefined();
    expect(await admin.revoke('old', { force: true })).toEqual({ status: 'revoked' });
  });
});
