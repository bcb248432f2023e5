import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionSettingsStatuses, ConnectionSettingsStatusSchema } from '../../functions/gen/opamp/v1/opamp_pb.js';
import type { ServerToAgent } from '../../functions/gen/opamp/v1/opamp_pb.js';
import { startTestBackend } from '../support/local-backend.js';
import type { TestBackend } from '../support/local-backend.js';
import { caps, COLLECTOR_CAPS, description, fullReport } from '../support/messages.js';
import { ScriptedAgent } from '../support/scripted-agent.js';
import { SecretsManagerEndpoint } from '../support/secrets-manager-endpoint.js';
import { everythingStored } from '../support/store-scan.js';
import { runOpampctl } from '../support/opampctl.js';

const CAPS = COLLECTOR_CAPS | caps('AgentCapabilities_ReportsOwnMetrics', 'AgentCapabilities_ReportsConnectionSettingsStatus');
const REFRESH_SECONDS = 60;

describe('credentials in settings documents, by reference', () => {
  const secrets = new SecretsManagerEndpoint();
  let backend: TestBackend;
  let scratch: string;

  beforeAll(async () => {
    await secrets.start();
  });
  afterAll(async () => {
    await secrets.stop();
  });
  afterEach(async () => {
    await backend.close();
    rmSync(scratch, { recursive: true, force: true });
    secrets.clear();
  });

  async function start(): Promise<void> {
    backend = await startTestBackend({
      OPAMP_FLEET_REVALIDATE_SECONDS: '0',
      OPAMP_SECRETS_MANAGER_ENDPOINT: secrets.url,
      OPAMP_SECRET_REFRESH_SECONDS: String(REFRESH_SECONDS),
      OPAMP_HEARTBEAT_IDLE_SECONDS: '0',
    });
    scratch = mkdtempSync(join(tmpdir(), 'opamp-secrets-'));
  }
  async function ctl(...args: string[]): Promise<string> {
    return runOpampctl(backend.url, [...args, '--json']);
  }
  async function uploadSettings(document: unknown): Promise<{ warnings: string[] }> {
    const file = join(scratch, 'settings.json');
    writeFileSync(file, JSON.stringify(document));
    const out = JSON.parse(await ctl('settings', 'upload', 'default', file)) as { warnings: string[] };
    await backend.ingested();
    return out;
  }
  const agent = () =>
    new ScriptedAgent(backend.opampUrl, {
      beforeSend: () => backend.clock.advance(30_000),
      report: (uid, seq) => fullReport(uid, seq, { capabilities: CAPS, agentDescription: description({ 'service.name': 'checkout' }) }),
    });
  const apiKey = (reply: ServerToAgent | undefined) => reply?.connectionSettings?.ownMetrics?.headers?.headers.find((h) => h.key === 'x-api-key')?.value;
  const applied = (reply: ServerToAgent | undefined) =>
    create(ConnectionSettingsStatusSchema, { lastConnectionSettingsHash: reply!.connectionSettings!.hash, status: ConnectionSettingsStatuses.ConnectionSettingsStatuses_APPLIED });

  it('hands an own-telemetry header from a secret to the agent, and its rotated value after, without storing either', async () => {
    await start();
    secrets.put('opamp/otel/keys', JSON.stringify({ ingest: 'first-value-7c1d' }));
    const upload = await uploadSettings({ ownMetrics: { endpoint: 'https://otlp.example.com/v1/metrics', headers: { 'x-api-key': { secret: 'otel/keys', key: 'ingest' } } } });
    const a = agent();

    const first = await a.sendFullReport();
    await a.send({ capabilities: CAPS, connectionSettingsStatus: applied(first.reply) });
    const quiet = await a.heartbeat(CAPS);
    secrets.put('opamp/otel/keys', JSON.stringify({ ingest: 'second-value-9e4f' }));
    backend.clock.advance(REFRESH_SECONDS * 1000);
    const rotated = await a.heartbeat(CAPS);
    await a.send({ capabilities: CAPS, connectionSettingsStatus: applied(rotated.reply) });

    const shown = [await ctl('settings', 'show', 'default'), await ctl('agent', a.uidText), await ctl('settings')].join('\n');
    const stored = await everythingStored(backend);

    expect(upload.warnings).toEqual([]);
    expect(apiKey(first.reply)).toBe('first-value-7c1d');
    expect(quiet.reply?.connectionSettings).toBeUndefined();
    expect(apiKey(rotated.reply)).toBe('second-value-9e4f');
    expect(rotated.reply?.connectionSettings?.hash).not.toEqual(first.reply?.connectionSettings?.hash);
    expect(shown).toContain('otel/keys');
    expect(stored).toContain('otel/keys');
    for (const value of ['first-value-7c1d', 'second-value-9e4f']) {
      expect(stored).not.toContain(value);
      expect(shown).not.toContain(value);
    }
  });

  it('offers nothing until the secret can be read, then keeps its last value through an outage and shows the problem', async () => {
    await start();
    secrets.failing = true;
    secrets.put('opamp/otel/keys', JSON.stringify({ ingest: 'value-3b2a' }));
    await uploadSettings({ ownMetrics: { endpoint: 'https://otlp.example.com/v1/metrics', headers: { 'x-api-key': { secret: 'otel/keys', key: 'ingest' } } } });
    const a = agent();

    const unreadable = await a.sendFullReport();
    secrets.failing = false;
    backend.clock.advance(30_000);
    const readable = await a.heartbeat(CAPS);
    await a.send({ capabilities: CAPS, connectionSettingsStatus: applied(readable.reply) });
    secrets.failing = true;
    backend.clock.advance(REFRESH_SECONDS * 1000);
    const outage = await a.heartbeat(CAPS);
    const view = JSON.parse(await ctl('agent', a.uidText)) as { connectionSettings: { problems: string[]; state: string } };

    expect(unreadable.reply?.connectionSettings).toBeUndefined();
    expect(apiKey(readable.reply)).toBe('value-3b2a');
    expect(outage.reply?.connectionSettings).toBeUndefined();
    expect(view.connectionSettings.state).toBe('applied');
    expect(view.connectionSettings.problems).toEqual([expect.stringMatching(/^ownMetrics\.headers\.x-api-key: secret secret:otel\/keys#ingest could not be read again .*its last value is offered$/)]);
  });

  it('accepts a literal credential, with a warning from the API and the CLI', async () => {
    await start();
    const upload = await uploadSettings({ ownMetrics: { endpoint: 'https://otlp.example.com/v1/metrics', headers: { 'x-api-key': 'literal-key' } } });
    const listed = await ctl('settings');

    expect(upload.warnings).toEqual([expect.stringMatching(/^ownMetrics\.headers\.x-api-key holds a literal credential/)]);
    expect(listed).toContain('holds a literal credential');
  });
});
