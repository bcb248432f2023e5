import { beforeAll, describe, expect, it } from 'vitest';
import { MemoryAgentStore } from '../../../functions/adapters/memory/agent-store.js';
import { MemoryFleetStore } from '../../../functions/adapters/memory/fleet-store.js';
import type { AgentRecord } from '../../../functions/core/agent-record.js';
import { AssignmentFileError, parseAssignment } from '../../../functions/core/assignment-file.js';
import type { AssignmentDocument } from '../../../functions/core/assignment-file.js';
import { configHash } from '../../../functions/core/config-hash.js';
import type { RemoteConfigOffer } from '../../../functions/core/remote-config.js';
import { parseSettings, SettingsFileError } from '../../../functions/core/settings-file.js';
import type { SettingsDocument } from '../../../functions/core/settings-file.js';
import { NO_TELEMETRY } from '../../../functions/observability/telemetry.js';
import { BucketIngest } from '../../../functions/service/bucket-ingest.js';
import { FleetAdmin, InvalidInputError, NotFoundError } from '../../../functions/service/fleet-admin.js';
import type { UploadedFile } from '../../../functions/service/fleet-admin.js';
import { CertificateMaterialError } from '../../../functions/service/x509.js';
import { createTestCa, generateKeyPair, pemDigest } from '../../support/x509-fixtures.js';
import type { TestCa } from '../../support/x509-fixtures.js';
import { ACCEPTS_ONLY, APPLIED, APPLYING, FAILED, FULL_CAPS, NO_ACCEPT, POLICY } from '../core/fleet-fixtures.js';
import { MemoryObjectStore } from './memory-object-store.js';

const T0 = Date.UTC(2026, 0, 1);
const bytes = (text: string) => new TextEncoder().encode(text);
const hex = (base64: string) => Buffer.from(base64, 'base64').toString('hex');

function setup() {
  const objects = new MemoryObjectStore();
  const fleet = new MemoryFleetStore();
  const agents = new MemoryAgentStore();
  const clock = { now: T0 };
  const admin = new FleetAdmin({ objects, fleet, agents, now: () => clock.now, remoteConfig: POLICY });
  const ingest = new BucketIngest({ objects, fleet, now: () => clock.now, telemetry: NO_TELEMETRY, maxConfigFileBytes: 1 << 20 });
  let delivered = 0;
  /** Lets the ingest record every bucket change made so far. */
  const ingestAll = async () => {
    const batch = objects.eventsSince(delivered);
    delivered = objects.events.length;
    await ingest.handleEvent(batch);
  };
  return { objects, fleet, agents, clock, admin, ingestAll };
}

describe('FleetAdmin.putConfig', () => {
  it('writes one object per file, with the content type given', async () => {
    // Prepare
    const { objects, admin } = setup();

    // Act
    await admin.putConfig('checkout', [
      { name: 'collector.yaml', body: bytes('receivers: {}') },
      { name: 'processors/batch.json', body: bytes('{}'), contentType: 'application/json' },
    ]);

    // Assess
    expect((await objects.listObjects('configs/')).map((o) => o.key)).toEqual(['configs/checkout/collector.yaml', 'configs/checkout/processors/batch.json']);
    const json = await objects.getObject('configs/checkout/processors/batch.json');
    expect(json?.contentType).toBe('application/json');
    expect(new TextDecoder().decode(json?.bytes)).toBe('{}');
  });

  it("removes the configuration's files not named, and leaves other configurations alone", async () => {
    // Prepare
    const { objects, admin } = setup();
    await objects.put('configs/checkout/old.yaml', 'old');
    await objects.put('configs/checkout/keep.yaml', 'keep v1');
    await objects.put('configs/checkout-canary/old.yaml', 'other configuration');
    await objects.put('configs/other/old.yaml', 'other configuration');

    // Act
    await admin.putConfig('checkout', [{ name: 'keep.yaml', body: bytes('keep v2') }]);

    // Assess
    expect((await objects.listObjects('configs/')).map((o) => o.key)).toEqual(['configs/checkout-canary/old.yaml', 'configs/checkout/keep.yaml', 'configs/other/old.yaml']);
    expect(new TextDecoder().decode((await objects.getObject('configs/checkout/keep.yaml'))?.bytes)).toBe('keep v2');
  });

  const uploads: Array<[string, UploadedFile[]]> = [
    ['one file without a content type', [{ name: 'collector.yaml', body: bytes('receivers: {}') }]],
    [
      'files with and without content types',
      [
        { name: 'collector.yaml', body: bytes('receivers: {}'), contentType: 'application/x-yaml' },
        { name: 'extra.json', body: bytes('{}') },
        { name: 'notes', body: bytes('free text') },
      ],
    ],
    ['the S3 default content type, which says nothing', [{ name: 'collector.yaml', body: bytes('x'), contentType: 'binary/octet-stream' }]],
    [
      'nested file names, listed out of order',
      [
        { name: 'z/last.yaml', body: bytes('z') },
        { name: 'a/first.yaml', body: bytes('a') },
        { name: 'm.yaml', body: bytes('m') },
      ],
    ],
  ];

  it.each(uploads)('returns the hash agents will get, once the ingest recorded the objects: %s', async (_name, files) => {
    // Prepare
    const { fleet, admin, ingestAll } = setup();

    // Act
    const result = await admin.putConfig('checkout', files);
    await ingestAll();

    // Assess
    const { state, configFiles } = await fleet.load();
    expect(result).toEqual({ name: 'checkout', hash: hex(state.configs.get('checkout')!.hash) });
    expect(result.hash).toBe(hex(configHash(configFiles)));
    expect(result.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each<[string, string]>([
    ['ends in "/" (a folder marker in the bucket)', 'processors/'],
    ['is a lone "/"', '/'],
  ])('does not promise a hash agents will never get when a file name %s', async (_name, fileName) => {
    // Prepare
    const { objects, fleet, admin, ingestAll } = setup();
    const files = [
      { name: 'collector.yaml', body: bytes('receivers: {}') },
      { name: fileName, body: bytes('x') },
    ];

    // Act
    const result = await admin.putConfig('checkout', files).catch((error: Error) => error);

    // Assess: refused before writing anything, or the promised hash is the one recorded.
    if (result instanceof Error) {
      expect(objects.events).toEqual([]);
    } else {
      await ingestAll();
      const recorded = (await fleet.load()).state.configs.get('checkout');
      expect(result.hash).toBe(recorded ? hex(recorded.hash) : null);
    }
  });

  it('returns the hash agents will get after a replacement that removes files', async () => {
    // Prepare
    const { fleet, admin, ingestAll } = setup();
    await admin.putConfig('checkout', [
      { name: 'a.yaml', body: bytes('a') },
      { name: 'b.yaml', body: bytes('b') },
    ]);
    await ingestAll();

    // Act
    const result = await admin.putConfig('checkout', [{ name: 'b.yaml', body: bytes('b2') }]);
    await ingestAll();

    // Assess
    const { state } = await fleet.load();
    expect(state.configs.get('checkout')?.files.map((f) => f.fileName)).toEqual(['b.yaml']);
    expect(result.hash).toBe(hex(state.configs.get('checkout')!.hash));
  });
});

describe('FleetAdmin.putConfig size limit', () => {
  it('refuses a file over the configuration file limit, naming the limit, and writes nothing', async () => {
    // Prepare
    const objects = new MemoryObjectStore();
    const admin = new FleetAdmin({ objects, fleet: new MemoryFleetStore(), agents: new MemoryAgentStore(), now: () => T0, remoteConfig: POLICY, maxConfigFileBytes: 10 });
    const body = (text: string) => new TextEncoder().encode(text);

    // Act
    const attempt = admin.putConfig('checkout', [
      { name: 'a.yaml', body: body('small') },
      { name: 'b.yaml', body: body('eleven byte') },
    ]);

    // Assess
    await expect(attempt).rejects.toThrow(InvalidInputError);
    await expect(attempt).rejects.toThrow('"b.yaml" has 11 bytes, more than the 10 a configuration file may have (OPAMP_MAX_CONFIG_FILE_BYTES)');
    expect(await objects.listObjects('configs/')).toEqual([]);
  });
});

describe('FleetAdmin.deleteConfig', () => {
  it('throws NotFoundError for a configuration that has no objects, and deletes nothing', async () => {
    // Prepare
    const { objects, admin } = setup();
    await objects.put('configs/checkout-canary/a.yaml', 'a');

    // Act
    const attempt = admin.deleteConfig('checkout');

    // Assess
    await expect(attempt).rejects.toThrow(NotFoundError);
    expect((await objects.listObjects('configs/')).map((o) => o.key)).toEqual(['configs/checkout-canary/a.yaml']);
  });

  it('deletes every object of the configuration, and the ingest then drops it', async () => {
    // Prepare
    const { objects, fleet, admin, ingestAll } = setup();
    await admin.putConfig('checkout', [
      { name: 'a.yaml', body: bytes('a') },
      { name: 'dir/b.yaml', body: bytes('b') },
    ]);
    await objects.put('configs/other/a.yaml', 'a');
    await ingestAll();

    // Act
    await admin.deleteConfig('checkout');
    await ingestAll();

    // Assess
    expect((await objects.listObjects('configs/')).map((o) => o.key)).toEqual(['configs/other/a.yaml']);
    expect([...(await fleet.load()).state.configs.keys()]).toEqual(['other']);
  });
});

describe('FleetAdmin.putAssignment', () => {
  it.each<[string, AssignmentDocument]>([
    ['an unknown field', { config: 'a', selector: 'k=v', prio: 1 } as AssignmentDocument],
    ['both selector and instanceUid', { config: 'a', selector: 'k=v', instanceUid: '0192f9e4-8a1b-7c3d-9e4f-a1b2c3d4e5f6' }],
    ['neither selector nor instanceUid', { config: 'a' }],
    ['a bad configuration name', { config: 'not valid', selector: 'k=v' }],
    ['a bad uid', { config: 'a', instanceUid: 'agent-7' }],
    ['a non-integer priority', { config: 'a', selector: 'k=v', priority: 0.5 }],
    ['a bad selector term', { config: 'a', selector: 'service.name' }],
  ])('rejects %s with AssignmentFileError and writes nothing', async (_name, document) => {
    // Prepare
    const { objects, admin } = setup();

    // Act
    const attempt = admin.putAssignment('route', document);

    // Assess
    await expect(attempt).rejects.toThrow(AssignmentFileError);
    expect(await objects.listObjects('')).toEqual([]);
    expect(objects.events).toEqual([]);
  });

  it.each<[string, AssignmentDocument]>([
    ['a selector string with a priority', { config: 'checkout', selector: 'service.name=checkout, deployment.environment=prod', priority: 10 }],
    ['a selector object', { config: 'checkout', selector: { 'service.name': 'checkout', url: 'https://x?a=b' } }],
    ['an instance uid in upper case', { config: 'canary', instanceUid: '0192F9E4-8A1B-7C3D-9E4F-A1B2C3D4E5F6' }],
    ['a negative priority', { config: 'checkout', selector: 'k=v', priority: -3 }],
  ])('writes assignments/<name>.json that parseAssignment reads back equal: %s', async (_name, document) => {
    // Prepare
    const { objects, admin } = setup();

    // Act
    const returned = await admin.putAssignment('route', document);

    // Assess
    const stored = await objects.getObject('assignments/route.json');
    expect(stored?.contentType).toBe('application/json');
    expect(parseAssignment('route', new TextDecoder().decode(stored?.bytes))).toEqual(returned);
  });

  it('writes what the ingest then records as in force', async () => {
    // Prepare
    const { fleet, admin, ingestAll } = setup();

    // Act
    const returned = await admin.putAssignment('route', { config: 'checkout', selector: 'service.name=checkout', priority: 2 });
    await ingestAll();

    // Assess
    const { state, assignments } = await fleet.load();
    expect(assignments[0]?.error).toBeUndefined();
    expect(state.assignments).toEqual([returned]);
  });
});

describe('FleetAdmin assignments with settings', () => {
  it('writes, records and shows the settings an assignment gives', async () => {
    // Prepare
    const { objects, admin, ingestAll } = setup();

    // Act
    const returned = await admin.putAssignment('prod', { settings: 'rotation', selector: 'deployment.environment=prod' });
    await ingestAll();
    const view = await admin.getAssignment('prod');

    // Assess
    const stored = await objects.getObject('assignments/prod.json');
    expect(parseAssignment('prod', new TextDecoder().decode(stored?.bytes))).toEqual(returned);
    expect(returned.settings).toBe('rotation');
    expect(view).toMatchObject({ name: 'prod', config: null, packages: null, settings: 'rotation', selector: 'deployment.environment=prod', inForce: true });
  });

  it('shows settings as null on an assignment that gives none', async () => {
    // Prepare
    const { admin, ingestAll } = setup();
    await admin.putAssignment('route', { config: 'checkout', selector: 'k=v' });
    await ingestAll();

    // Act
    const [view] = await admin.listAssignments();

    // Assess
    expect(view?.settings).toBeNull();
  });
});

describe('FleetAdmin settings', () => {
  const ROTATION: SettingsDocument = { opamp: { token: 'rotation-2026', heartbeat: { idleSeconds: 120 } } };
  const WITH_CERTIFICATES: SettingsDocument = {
    opamp: { certificate: 'client' },
    ownMetrics: { endpoint: 'https://otlp.example/v1/metrics', certificate: 'bucket:metrics' },
    ownLogs: { endpoint: 'https://otlp.example/v1/logs', certificate: 'secretsmanager:prod/logs-client' },
    otherConnections: { jaeger: { endpoint: 'jaeger:14250', certificate: 'client' } },
  };

  it.each<[string, unknown]>([
    ['an unknown field', { opamp: { tokn: 'x' } }],
    ['an empty document', {}],
    ['an Authorization header (tokens go in "token")', { opamp: { headers: { authorization: 'Bearer x' } } }],
    ['an endpoint that is not a URL', { ownLogs: { endpoint: 'logs.example' } }],
    ['a certificate reference that is not one', { ownLogs: { endpoint: 'https://logs.example', certificate: 'not a name' } }],
  ])('rejects %s with SettingsFileError and writes nothing', async (_name, document) => {
    // Prepare
    const { objects, admin } = setup();

    // Act
    const attempt = admin.putSettings('rotation', document as SettingsDocument);

    // Assess
    await expect(attempt).rejects.toThrow(SettingsFileError);
    expect(objects.events).toEqual([]);
  });

  it('writes settings/<name>.json that parseSettings reads back equal, and the ingest puts in force', async () => {
    // Prepare
    const { objects, fleet, admin, ingestAll } = setup();

    // Act
    const returned = await admin.putSettings('rotation', WITH_CERTIFICATES);
    await ingestAll();

    // Assess
    const stored = await objects.getObject('settings/rotation.json');
    expect(stored?.contentType).toBe('application/json');
    expect(parseSettings(new TextDecoder().decode(stored?.bytes))).toEqual(returned);
    expect((await fleet.load()).state.settings.get('rotation')).toEqual(returned);
  });

  it('shows each document, whether it is in force or the default, the assignments giving it and the bucket certificates it lacks', async () => {
    // Prepare
    const { objects, admin, ingestAll } = setup();
    await admin.putSettings('default', ROTATION);
    await admin.putSettings('rotation', WITH_CERTIFICATES);
    await admin.putAssignment('prod', { settings: 'rotation', selector: 'env=prod' });
    await admin.putAssignment('canary', { settings: 'rotation', instanceUid: '0192f9e4-8a1b-7c3d-9e4f-a1b2c3d4e5f6' });
    await admin.putAssignment('other', { config: 'checkout', selector: 'env=dev' });
    await objects.put('certificates/metrics/cert.pem', 'not a certificate');
    await ingestAll();

    // Act
    const views = await admin.listSettings();

    // Assess
    expect(views).toEqual([
      {
        name: 'default',
        settings: ROTATION,
        inForce: true,
        error: null,
        errorAt: null,
        isDefault: true,
        assignments: [],
        certificates: [],
        problems: [],
        warnings: [],
      },
      {
        name: 'rotation',
        settings: WITH_CERTIFICATES,
        inForce: true,
        error: null,
        errorAt: null,
        isDefault: false,
        assignments: ['canary', 'prod'],
        certificates: ['client', 'metrics'],
        problems: ['certificate client: no folder certificates/client/ in the bucket', expect.stringMatching(/^certificate metrics: .*PEM/)],
        warnings: [],
      },
    ]);
  });

  it("shows a rejected upload's error beside the document still in force, and one never valid as not in force", async () => {
    // Prepare
    const { objects, admin, ingestAll, clock } = setup();
    await admin.putSettings('rotation', ROTATION);
    await ingestAll();
    clock.now = T0 + 60_000;
    await objects.put('settings/rotation.json', '{"opamp": {"tokn": "x"}}');
    await objects.put('settings/broken.json', '{');
    await ingestAll();

    // Act
    const rotation = await admin.getSettings('rotation');
    const broken = await admin.getSettings('broken');

    // Assess
    expect(rotation).toMatchObject({ settings: ROTATION, inForce: true, error: expect.stringContaining('tokn'), errorAt: new Date(T0 + 60_000).toISOString() });
    expect(broken).toMatchObject({ settings: null, inForce: false, error: expect.stringContaining('not valid JSON') });
  });

  it('throws NotFoundError for a document that was never recorded', async () => {
    // Prepare
    const { admin } = setup();

    // Act
    const attempt = admin.getSettings('rotation');

    // Assess
    await expect(attempt).rejects.toThrow(NotFoundError);
  });

  it('deletes a document, which the ingest then drops; a second delete is NotFoundError', async () => {
    // Prepare
    const { objects, fleet, admin, ingestAll } = setup();
    await admin.putSettings('rotation', ROTATION);
    await objects.put('settings/rotation-2.json', '{"ownLogs": {"endpoint": "https://logs.example"}}');
    await ingestAll();

    // Act
    await admin.deleteSettings('rotation');
    await ingestAll();
    const again = admin.deleteSettings('rotation');

    // Assess
    await expect(again).rejects.toThrow(NotFoundError);
    expect((await objects.listObjects('settings/')).map((o) => o.key)).toEqual(['settings/rotation-2.json']);
    expect([...(await fleet.load()).state.settings.keys()]).toEqual(['rotation-2']);
  });
});

describe('FleetAdmin certificates', () => {
  let client: TestCa;
  let root: TestCa;
  let otherKeyPem: string;

  beforeAll(async () => {
    client = await createTestCa({ isCa: false, subject: 'CN=client, O=Example' });
    root = await createTestCa({ subject: 'CN=Example Root, O=Example' });
    otherKeyPem = (await generateKeyPair('ec-p256')).privateKeyPem;
  });

  it('writes cert.pem, key.pem and ca.pem and returns what the ingest will record', async () => {
    // Prepare
    const { objects, admin } = setup();

    // Act
    const returned = await admin.putCertificate('client', { cert: client.certPem, key: client.keyPem, ca: root.certPem });

    // Assess
    const text = async (key: string) => new TextDecoder().decode((await objects.getObject(key))?.bytes);
    expect((await objects.listObjects('certificates/')).map((o) => o.key)).toEqual(['certificates/client/ca.pem', 'certificates/client/cert.pem', 'certificates/client/key.pem']);
    expect([await text('certificates/client/cert.pem'), await text('certificates/client/key.pem'), await text('certificates/client/ca.pem')]).toEqual([client.certPem, client.keyPem, root.certPem]);
    expect(returned).toEqual({ name: 'client', fingerprint: pemDigest(client.certPem), subject: 'CN=client, O=Example', notAfter: expect.stringMatching(/^\d{4}-/) });
  });

  it.each<[string, () => { cert: string; key?: string; ca?: string }]>([
    ['a key of another key pair', () => ({ cert: client.certPem, key: otherKeyPem })],
    ['a certificate that is not PEM', () => ({ cert: 'hello' })],
    ['a CA file without a certificate', () => ({ cert: client.certPem, ca: client.keyPem })],
  ])('rejects %s with CertificateMaterialError and writes nothing', async (_name, material) => {
    // Prepare
    const { objects, admin } = setup();

    // Act
    const attempt = admin.putCertificate('client', material());

    // Assess
    await expect(attempt).rejects.toThrow(CertificateMaterialError);
    expect(objects.events).toEqual([]);
  });

  it('removes the key.pem and ca.pem a replacement does not have', async () => {
    // Prepare
    const { objects, admin } = setup();
    await admin.putCertificate('client', { cert: client.certPem, key: client.keyPem, ca: root.certPem });

    // Act
    await admin.putCertificate('client', { cert: root.certPem });

    // Assess
    expect((await objects.listObjects('certificates/')).map((o) => o.key)).toEqual(['certificates/client/cert.pem']);
  });

  it('lists what the ingest recorded, with the settings documents referring to each certificate', async () => {
    // Prepare
    const { objects, admin, ingestAll } = setup();
    const returned = await admin.putCertificate('client', { cert: client.certPem, key: client.keyPem });
    await admin.putCertificate('root', { cert: root.certPem });
    await objects.put('certificates/broken/key.pem', client.keyPem);
    await admin.putSettings('default', { opamp: { certificate: 'client' } });
    await admin.putSettings('metrics', { ownMetrics: { endpoint: 'https://otlp.example/v1/metrics', certificate: 'bucket:client' } });
    await admin.putSettings('vault', { ownLogs: { endpoint: 'https://otlp.example/v1/logs', certificate: 'secretsmanager:root' } });
    await ingestAll();

    // Act
    const views = await admin.listCertificates();

    // Assess
    expect(views).toEqual([
      {
        name: 'broken',
        fingerprint: null,
        subject: null,
        notAfter: null,
        files: { cert: false, key: true, ca: false },
        error: 'no cert.pem in certificates/broken/',
        settings: [],
      },
      {
        name: 'client',
        fingerprint: returned.fingerprint,
        subject: 'CN=client, O=Example',
        notAfter: returned.notAfter,
        files: { cert: true, key: true, ca: false },
        error: null,
        settings: ['default', 'metrics'],
      },
      expect.objectContaining({ name: 'root', fingerprint: pemDigest(root.certPem), files: { cert: true, key: false, ca: false }, settings: [] }),
    ]);
  });

  it('deletes the whole folder, which the ingest then drops; a second delete is NotFoundError', async () => {
    // Prepare
    const { objects, admin, ingestAll } = setup();
    await admin.putCertificate('client', { cert: client.certPem, key: client.keyPem, ca: root.certPem });
    await objects.put('certificates/client/notes.txt', 'rotated yearly');
    await admin.putCertificate('root', { cert: root.certPem });
    await ingestAll();

    // Act
    await admin.deleteCertificate('client');
    await ingestAll();
    const again = admin.deleteCertificate('client');

    // Assess
    await expect(again).rejects.toThrow(NotFoundError);
    expect((await objects.listObjects('certificates/')).map((o) => o.key)).toEqual(['certificates/root/cert.pem']);
    expect((await admin.listCertificates()).map((c) => c.name)).toEqual(['root']);
  });
});

describe('FleetAdmin.rollout', () => {
  let serial = 0;
  function uid(): string {
    return `00000000-0000-7000-8000-${(++serial).toString().padStart(12, '0')}`;
  }

  function agentRecord(attributes: Record<string, string>, overrides: Partial<AgentRecord> = {}): AgentRecord {
    return {
      instanceUid: uid(),
      version: 1,
      sequenceNum: 1n,
      lastMessageDigest: 'd',
      capabilities: FULL_CAPS,
      firstSeenAt: T0,
      lastSeenAt: T0,
      attributes,
      sections: {},
      sectionIds: {},
      expiresAt: 0,
      ...overrides,
    };
  }

  /** Two configurations, checkout assigned by selector; returns their base64 hashes. */
  async function fleetWithCheckout(s: ReturnType<typeof setup>) {
    await s.objects.put('configs/checkout/c.yaml', 'checkout v2');
    await s.objects.put('configs/default/c.yaml', 'default');
    await s.objects.put('assignments/checkout.json', '{"config": "checkout", "selector": "service.name=checkout"}');
    await s.ingestAll();
    const { state } = await s.fleet.load();
    return { checkout: state.configs.get('checkout')!.hash, fallback: state.configs.get('default')!.hash };
  }

  function offer(hash: string, overrides: Partial<RemoteConfigOffer> = {}): RemoteConfigOffer {
    return { hash, name: 'checkout', offeredAt: T0, offeredSeq: 1n, attempts: 1, acknowledged: false, ...overrides };
  }

  it('counts applied, applying, failed and pending over the agents the configuration targets, and only those', async () => {
    // Prepare
    const s = setup();
    const { checkout, fallback } = await fleetWithCheckout(s);
    const CHECKOUT = { 'service.name': 'checkout' };
    const CART = { 'service.name': 'cart' };
    const records: Array<[string, AgentRecord]> = [
      ['applied', agentRecord(CHECKOUT, { remoteConfigStatus: { hash: checkout, status: APPLIED, errorMessage: '' }, configOffer: offer(checkout, { acknowledged: true }) })],
      ['applying (reported)', agentRecord(CHECKOUT, { remoteConfigStatus: { hash: checkout, status: APPLYING, errorMessage: '' }, configOffer: offer(checkout, { acknowledged: true }) })],
      ['applying (offered)', agentRecord(CHECKOUT, { remoteConfigStatus: { hash: fallback, status: APPLIED, errorMessage: '' }, configOffer: offer(checkout) })],
      ['applying (offered, does not report)', agentRecord(CHECKOUT, { capabilities: ACCEPTS_ONLY, configOffer: offer(checkout, { attempts: 3 }) })],
      ['failed', agentRecord(CHECKOUT, { remoteConfigStatus: { hash: checkout, status: FAILED, errorMessage: 'unknown receiver' }, configOffer: offer(checkout, { acknowledged: true }) })],
      [
        'failed (rolled back)',
        agentRecord(CHECKOUT, {
          remoteConfigStatus: { hash: fallback, status: APPLIED, errorMessage: '' },
          configOffer: offer(checkout, { acknowledged: true, rolledBackAt: T0, rolledBackTo: fallback, rollbackMessage: 'did not come up' }),
        }),
      ],
      ['failed (not taken)', agentRecord(CHECKOUT, { configOffer: offer(checkout, { attempts: POLICY.maxAttempts }) })],
      ['pending', agentRecord(CHECKOUT)],
      ['other configuration, applied', agentRecord(CART, { remoteConfigStatus: { hash: fallback, status: APPLIED, errorMessage: '' } })],
      ['other configuration, failed', agentRecord(CART, { remoteConfigStatus: { hash: fallback, status: FAILED, errorMessage: 'bad' } })],
      ['targeted, but accepts no remote configuration', agentRecord(CHECKOUT, { capabilities: NO_ACCEPT })],
      ['other configuration, reports the checkout hash', agentRecord(CART, { remoteConfigStatus: { hash: checkout, status: APPLIED, errorMessage: '' } })],
    ];
    for (const [, record] of records) await s.agents.put({ record, expectedVersion: 0 });
    s.clock.now = T0 + POLICY.resendAfterMs;
    const uidOf = (label: string) => records.find(([l]) => l === label)![1].instanceUid;

    // Act
    const view = await s.admin.rollout('checkout');

    // Assess
    expect(view).toMatchObject({ config: 'checkout', hash: hex(checkout), matched: 8, applied: 1, applying: 3, failed: 3, pending: 1, notAccepted: 1 });
    expect(view.agents.map((a) => a.instanceUid).sort()).toEqual(
      [
        'applying (reported)',
        'applying (offered)',
        'applying (offered, does not report)',
        'failed',
        'failed (rolled back)',
        'failed (not taken)',
        'pending',
        'targeted, but accepts no remote configuration',
      ]
        .map(uidOf)
        .sort(),
    );
    expect(view.agents.find((a) => a.instanceUid === uidOf('targeted, but accepts no remote configuration'))?.state).toBe('not-accepted');
    expect(view.agents.find((a) => a.instanceUid === uidOf('failed'))).toMatchObject({ state: 'failed', via: 'checkout', errorMessage: 'unknown receiver', reportedHash: hex(checkout) });
    expect(view.agents.find((a) => a.instanceUid === uidOf('failed (rolled back)'))).toMatchObject({ state: 'rolled-back', errorMessage: 'did not come up', reportedHash: hex(fallback) });
    expect(view.agents.find((a) => a.instanceUid === uidOf('failed (not taken)'))?.state).toBe('not-taken');
  });

  it('counts the agents of the default configuration separately', async () => {
    // Prepare
    const s = setup();
    const { fallback } = await fleetWithCheckout(s);
    await s.agents.put({ record: agentRecord({ 'service.name': 'cart' }, { remoteConfigStatus: { hash: fallback, status: APPLIED, errorMessage: '' } }), expectedVersion: 0 });
    await s.agents.put({ record: agentRecord({ 'service.name': 'checkout' }), expectedVersion: 0 });

    // Act
    const view = await s.admin.rollout('default');

    // Assess
    expect(view).toMatchObject({ config: 'default', matched: 1, applied: 1, applying: 0, failed: 0, pending: 0, agents: [] });
  });

  it('counts the agents of an assignment whose configuration does not exist as none, with no hash', async () => {
    // Prepare
    const s = setup();
    await s.objects.put('assignments/future.json', '{"config": "future", "selector": "service.name=checkout"}');
    await s.ingestAll();
    await s.agents.put({ record: agentRecord({ 'service.name': 'checkout' }), expectedVersion: 0 });

    // Act
    const view = await s.admin.rollout('future');

    // Assess
    expect(view).toMatchObject({ config: 'future', hash: null, matched: 0, applied: 0, applying: 0, failed: 0, pending: 0 });
  });

  it('throws NotFoundError for a name that is neither stored nor assigned', async () => {
    // Prepare
    const s = setup();
    await fleetWithCheckout(s);

    // Act
    const attempt = s.admin.rollout('chekout');

    // Assess
    await expect(attempt).rejects.toThrow(NotFoundError);
    await expect(attempt).rejects.toThrow('no configuration named chekout');
  });

  it('counts every page of agents', async () => {
    // Prepare
    const s = setup();
    const { checkout } = await fleetWithCheckout(s);
    for (let i = 0; i < 1_100; i++) {
      const applied = i % 2 === 0;
      await s.agents.put({
        record: agentRecord({ 'service.name': 'checkout' }, applied ? { remoteConfigStatus: { hash: checkout, status: APPLIED, errorMessage: '' } } : {}),
        expectedVersion: 0,
      });
    }

    // Act
    const view = await s.admin.rollout('checkout');

    // Assess
    expect(view).toMatchObject({ matched: 1_100, applied: 550, pending: 550 });
    expect(view.agents).toHaveLength(550);
  });
});
