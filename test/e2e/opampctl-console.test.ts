import { get as httpGet } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConsole } from '../../cli/console.js';
import type { RunningConsole } from '../../cli/console.js';
import { startTestBackend } from '../support/local-backend.js';
import type { TestBackend } from '../support/local-backend.js';
import { ScriptedAgent } from '../support/scripted-agent.js';
import { startSigV4StandIn } from '../support/sigv4-stand-in.js';

const CREDENTIALS = { accessKeyId: 'AKIDCONSOLETEST', secretAccessKey: 'console-test-secret' };
// Any 127/8 address reaches this machine, but only 127.0.0.1 and localhost count as local to
// opampctl: the stand-in listens on another one, so opampctl signs as it would for AWS.
const REMOTE_LOOKING_HOST = '127.0.0.2';

/** fetch will not send another Host header than the URL's; node:http will. */
function statusFor(url: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpGet(url, { headers: { host } }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', reject);
  });
}

describe('opampctl console', () => {
  let backend: TestBackend;
  let agent: ScriptedAgent;
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };

  beforeAll(async () => {
    process.env.AWS_ACCESS_KEY_ID = CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = CREDENTIALS.secretAccessKey;
    backend = await startTestBackend();
    agent = new ScriptedAgent(backend.opampUrl);
    await agent.sendFullReport();
  });
  afterAll(async () => {
    await backend?.close();
    process.env.AWS_ACCESS_KEY_ID = saved.id;
    process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
    if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
    if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
  });

  async function withConsole(secret: string, use: (running: RunningConsole, requests: Awaited<ReturnType<typeof startSigV4StandIn>>['requests']) => Promise<void>) {
    const standIn = await startSigV4StandIn({ host: REMOTE_LOOKING_HOST, upstream: backend.url, region: 'eu-west-1', credentials: { ...CREDENTIALS, secretAccessKey: secret } });
    const running = await startConsole(['--api', standIn.url, '--region', 'eu-west-1', '--port', '0']);
    try {
      await use(running!, standIn.requests);
    } finally {
      await running?.close();
      await standIn.close();
    }
  }

  it('serves the pages on localhost and signs every fleet API call, form posts included', async () => {
    await withConsole(CREDENTIALS.secretAccessKey, async (running, requests) => {
      expect(running.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const overview = await fetch(`${running.url}/`);
      expect(overview.status).toBe(200);
      expect(await overview.text()).toContain('<strong data-testid="agent-count">1</strong>');
      const agentPage = await fetch(`${running.url}/agents/${agent.uidText}`);
      expect(await agentPage.text()).toContain(agent.uidText);
      const upload = await fetch(`${running.url}/configs`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: running.url },
        body: new URLSearchParams({ name: 'signed', file: 'a.yaml', content: 'x: 1\n' }),
      });
      expect(upload.headers.get('location')).toContain('notice=');
      expect(requests.map((r) => `${r.method} ${r.path}`)).toContain('PUT /api/v1/configs/signed');
      expect(requests.length).toBeGreaterThan(3);
      expect(requests.filter((r) => r.refusal)).toEqual([]);
    });
  });

  it('shows the fleet API refusing a bad signature', async () => {
    await withConsole('another-secret', async (running, requests) => {
      const overview = await fetch(`${running.url}/`);
      expect(overview.status).toBe(502);
      expect(await overview.text()).toContain('403 Forbidden: signature does not match');
      expect(requests.every((r) => r.refusal === 'signature does not match')).toBe(true);
    });
  });

  it('answers only to local host names', async () => {
    await withConsole(CREDENTIALS.secretAccessKey, async (running) => {
      const port = new URL(running.url).port;
      // What a browser sends after a page's own host name was rebound to 127.0.0.1.
      expect(await statusFor(running.url, `attacker.example:${port}`)).toBe(403);
      expect(await statusFor(running.url, `localhost:${port}`)).toBe(200);
    });
  });
});
