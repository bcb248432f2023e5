import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend } from '../support/local-backend.js';
import type { TestBackend } from '../support/local-backend.js';
import { ScriptedAgent } from '../support/scripted-agent.js';
import { runOpampctl } from '../support/opampctl.js';

describe('the local backend with agent tokens required', () => {
  let backend: TestBackend;

  beforeAll(async () => {
    backend = await startTestBackend({ OPAMP_AGENT_AUTH: 'token', OPAMP_FLEET_REVALIDATE_SECONDS: '0' });
  });
  afterAll(async () => {
    await backend.close();
  });

  async function ctl(...args: string[]): Promise<string> {
    return runOpampctl(backend.url, args);
  }
  const agentWith = (token?: string) =>
    new ScriptedAgent(backend.opampUrl, {
      beforeSend: () => backend.clock.advance(30_000),
      ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
    });
  const known = async (uid: string) => (await fetch(`${backend.url}/api/v1/agents/${uid}`)).status === 200;

  it('serves agents with a valid token and refuses the others with a bare 401, storing nothing', async () => {
    const { token } = JSON.parse(await ctl('token', 'create', 'fleet-a', '--json'));
    const good = agentWith(token);
    const none = agentWith();
    const forged = agentWith(`${token}x`);

    const ok = await good.sendFullReport();
    const refused = [await none.sendFullReport(), await forged.sendFullReport()];

    expect(ok.status).toBe(200);
    for (const r of refused) {
      expect(r.status).toBe(401);
      expect(r.headers.get('www-authenticate')).toBe('Bearer');
      expect(r.reply).toBeUndefined();
    }
    expect(await known(good.uidText)).toBe(true);
    expect(await known(none.uidText)).toBe(false);
    expect(await known(forged.uidText)).toBe(false);
  });

  it('accepts several tokens at once, so one can be rotated out while agents move', async () => {
    const { token: oldToken } = JSON.parse(await ctl('token', 'create', 'old', '--json'));
    const { token: newToken } = JSON.parse(await ctl('token', 'create', 'new', '--json'));
    const onOld = agentWith(oldToken);
    const onNew = agentWith(newToken);

    const before = [await onOld.sendFullReport(), await onNew.sendFullReport()];
    // An agent still authenticates with it: revoking it needs --force.
    const refused = await ctl('token', 'revoke', 'old').then(
      () => 'revoked',
      (error: Error) => error.message,
    );
    await ctl('token', 'revoke', 'old', '--force');
    const after = [await onOld.heartbeat(), await onNew.heartbeat()];
    const listed = JSON.parse(await ctl('tokens', '--json'));

    expect(refused).toMatch(/token old is in use: 1 live agent/);
    expect(before.map((r) => r.status)).toEqual([200, 200]);
    expect(after.map((r) => r.status)).toEqual([401, 200]);
    expect(listed.tokens.map((t: { name: string }) => t.name)).toEqual(['fleet-a', 'new']);
    expect(JSON.stringify(listed)).not.toContain(newToken);
  });
});
