import { beforeAll, describe, expect, it } from 'vitest';
import { MemoryFleetStore } from '../../../functions/adapters/memory/fleet-store.js';
import { resolveSettingsTarget } from '../../../functions/core/targeting.js';
import type { TargetAgent } from '../../../functions/core/targeting.js';
import { NO_TELEMETRY } from '../../../functions/observability/telemetry.js';
import type { Telemetry } from '../../../functions/observability/telemetry.js';
import { BucketIngest } from '../../../functions/service/bucket-ingest.js';
import type { BucketEventRecord } from '../../../functions/service/bucket-ingest.js';
import { createTestCa, generateKeyPair, pemDigest } from '../../support/x509-fixtures.js';
import type { TestCa } from '../../support/x509-fixtures.js';
import { MemoryObjectStore, sha256Hex } from './memory-object-store.js';

const T0 = Date.UTC(2026, 0, 1);
const PROD_AGENT: TargetAgent = { instanceUid: '0192f9e4-8a1b-7c3d-9e4f-a1b2c3d4e5f6', attributes: { 'deployment.environment': 'prod' } };
const OTHER_AGENT: TargetAgent = { instanceUid: '0192f9e4-8a1b-7c3d-9e4f-a1b2c3d4e5f7', attributes: {} };

const ROTATION = '{"opamp": {"token": "rotation-2026", "heartbeat": {"idleSeconds": 120}}}';
const LOGS = '{"ownLogs": {"endpoint": "https://logs.example/v1/logs", "certificate": "client"}}';
const MISSPELT = '{"opamp": {"tokn": "rotation-2026"}}';

function setup() {
  const objects = new MemoryObjectStore({ versioned: true });
  const fleet = new MemoryFleetStore();
  const clock = { now: T0 };
  const counted: string[] = [];
  const telemetry: Telemetry = { ...NO_TELEMETRY, count: (metric) => counted.push(metric) };
  const ingest = new BucketIngest({ objects, fleet, now: () => clock.now, telemetry, maxConfigFileBytes: 1024 });
  let delivered = 0;
  /** Delivers the events produced since the last call, in order. */
  const deliverNew = async () => {
    const batch = objects.eventsSince(delivered);
    delivered = objects.events.length;
    return ingest.handleEvent(batch);
  };
  /** Marks the events so far as lost: they are never delivered. */
  const loseNew = () => {
    delivered = objects.events.length;
  };
  return { objects, fleet, ingest, clock, counted, deliverNew, loseNew };
}

describe('BucketIngest: settings documents', () => {
  it('records a valid document, in force as the fallback when it is named default', async () => {
    // Prepare
    const { objects, fleet, deliverNew } = setup();
    await objects.put('settings/default.json', ROTATION);

    // Act
    const outcomes = await deliverNew();

    // Assess
    const snapshot = await fleet.load();
    expect(outcomes).toEqual(['recorded']);
    expect(snapshot.settings).toEqual([
      {
        name: 'default',
        settings: { opamp: { token: 'rotation-2026', heartbeat: { idleSeconds: 120 } } },
        etag: (await objects.listObjects('settings/'))[0]!.etag,
        updatedAt: T0,
      },
    ]);
    expect(resolveSettingsTarget(OTHER_AGENT, snapshot.state)).toMatchObject({ name: 'default', via: 'default' });
    expect(await fleet.generation()).toBe('1');
  });

  it('puts a document in force for the agents an assignment gives it to', async () => {
    // Prepare
    const { objects, fleet, deliverNew } = setup();
    await objects.put('settings/rotation.json', ROTATION);
    await objects.put('assignments/prod.json', '{"settings": "rotation", "selector": "deployment.environment=prod"}');

    // Act
    await deliverNew();

    // Assess
    const { state } = await fleet.load();
    expect(resolveSettingsTarget(PROD_AGENT, state)).toEqual({ name: 'rotation', via: 'prod', spec: state.settings.get('rotation') });
    expect(resolveSettingsTarget(OTHER_AGENT, state)).toBeUndefined();
  });

  it("records a rejected upload's error with the key, keeps the previous document in force, and counts it", async () => {
    // Prepare
    const { objects, fleet, counted, deliverNew } = setup();
    await objects.put('settings/rotation.json', ROTATION);
    await deliverNew();

    // Act
    await objects.put('settings/rotation.json', MISSPELT);
    const outcomes = await deliverNew();

    // Assess
    const snapshot = await fleet.load();
    expect(outcomes).toEqual(['recorded']);
    expect(snapshot.settings[0]).toMatchObject({
      name: 'rotation',
      settings: { opamp: { token: 'rotation-2026' } },
      error: expect.stringMatching(/^settings\/rotation\.json: .*tokn/),
      errorAt: T0,
    });
    expect(snapshot.state.settings.get('rotation')?.opamp?.token).toBe('rotation-2026');
    expect(counted).toEqual(['Rejected.settings-file']);
  });

  it.each<[string, string]>([
    ['not JSON', '{"opamp": '],
    ['an unknown field', MISSPELT],
    ['an empty document', '{}'],
    ['an endpoint that is not a URL', '{"ownLogs": {"endpoint": "logs.example"}}'],
  ])('does not put a first upload that is %s in force', async (_name, text) => {
    // Prepare
    const { objects, fleet, deliverNew } = setup();
    await objects.put('settings/default.json', text);

    // Act
    await deliverNew();

    // Assess
    const snapshot = await fleet.load();
    expect(snapshot.settings).toEqual([expect.objectContaining({ name: 'default', error: expect.stringMatching(/^settings\/default\.json: /) })]);
    expect(snapshot.settings[0]!.settings).toBeUndefined();
    expect(snapshot.state.settings.size).toBe(0);
    expect(resolveSettingsTarget(OTHER_AGENT, snapshot.state)).toBeUndefined();
  });

  it('clears the error when a valid upload follows', async () => {
    // Prepare
    const { objects, fleet, deliverNew } = setup();
    await objects.put('settings/rotation.json', MISSPELT);
    await deliverNew();

    // Act
    await objects.put('settings/rotation.json', LOGS);
    await deliverNew();

    // Assess
    const snapshot = await fleet.load();
    expect(snapshot.settings[0]?.error).toBeUndefined();
    expect(snapshot.state.settings.get('rotation')).toEqual({ ownLogs: { endpoint: 'https://logs.example/v1/logs', certificate: 'client' } });
  });

  it('drops a removed document', async () => {
    // Prepare
    const { objects, fleet, deliverNew } = setup();
    await objects.put('settings/default.json', ROTATION);
    await deliverNew();

    // Act
    await objects.deleteObject('settings/default.json');
    const outcomes = await deliverNew();

    // Assess
    const snapshot = await fleet.load();
    expect(outcomes).toEqual(['recorded']);
    expect(snapshot.settings).toEqual([]);
    expect(resolveSettingsTarget(OTHER_AGENT, snapshot.state)).toBeUndefined();
  });

  it('treats an older event arriving after a newer one as stale', async () => {
    // Prepare
    const { objects, fleet, ingest } = setup();
    await objects.put('settings/rotation.json', ROTATION);
    await objects.deleteObject('settings/rotation.json');
    const [created, removed] = objects.events as [BucketEventRecord, BucketEventRecord];
    await ingest.handleEvent([removed]);

    // Act
    const outcomes = await ingest.handleEvent([created]);

    // Assess
    expect(outcomes).toEqual(['stale']);
    expect((await fleet.load()).settings).toEqual([]);
  });

  it.each<[string]>([['settings/rotation.yaml'], ['settings/nested/rotation.json'], ['settings/.json']])('rejects %s', async (key) => {
    // Prepare
    const { objects, fleet, deliverNew } = setup();
    await objects.put(key, ROTATION);

    // Act
    const outcomes = await deliverNew();

    // Assess
    expect(outcomes).toEqual(['rejected']);
    expect((await fleet.load()).settings).toEqual([]);
  });
});

describe('BucketIngest: certificate folders', () => {
  let client: TestCa;
  let otherKeyPem: string;
  let ca: TestCa;

  beforeAll(async () => {
    client = await createTestCa({ isCa: false, subject: 'CN=telemetry-client, O=Example' });
    ca = await createTestCa({ subject: 'CN=Example Root, O=Example' });
    otherKeyPem = (await generateKeyPair('ec-p256')).privateKeyPem;
  });

  async function putFolder(objects: MemoryObjectStore, name: string, files: { cert?: string; key?: string; ca?: string }) {
    for (const [role, text] of Object.entries(files)) await objects.put(`certificates/${name}/${role}.pem`, text);
  }

  it("records each file's key, SHA-256 and version, and the certificate's fingerprint, subject and expiry", async () => {
    // Prepare
    const { objects, fleet, deliverNew } = setup();
    await putFolder(objects, 'client', { cert: client.certPem, key: client.keyPem, ca: ca.certPem });

    // Act
    const outcomes = await deliverNew();

    // Assess
    const snapshot = await fleet.load();
    const version = async (role: string) => (await objects.getObject(`certificates/client/${role}.pem`))?.versionId;
    expect(outcomes).toEqual(['recorded', 'recorded', 'recorded']);
    expect(snapshot.certificates).toEqual([
      {
        name: 'client',
        cert: { objectKey: 'certificates/client/cert.pem', sha256: sha256Hex(client.certPem), versionId: await version('cert') },
        key: { objectKey: 'certificates/client/key.pem', sha256: sha256Hex(client.keyPem), versionId: await version('key') },
        ca: { objectKey: 'certificates/client/ca.pem', sha256: sha256Hex(ca.certPem), versionId: await version('ca') },
        fingerprint: pemDigest(client.certPem),
        subject: 'CN=telemetry-client, O=Example',
        notAfter: expect.any(Number),
        scannedAt: T0,
      },
    ]);
    expect(snapshot.certificates[0]!.notAfter).toBeGreaterThan(T0);
    expect(snapshot.state.certificates.get('client')?.fingerprint).toBe(pemDigest(client.certPem));
    expect(await fleet.generation()).toBe('1');
  });

  it('records a certificate alone (no key, no CA)', async () => {
    // Prepare
    const { objects, fleet, deliverNew } = setup();
    await putFolder(objects, 'server-ca', { cert: ca.certPem });

    // Act
    await deliverNew();

    // Assess
    const [record] = (await fleet.load()).certificates;
    expect(record).toMatchObject({ name: 'server-ca', fingerprint: pemDigest(ca.certPem), subject: 'CN=Example Root, O=Example' });
    expect(record?.key).toBeUndefined();
    expect(record?.ca).toBeUndefined();
    expect(record?.error).toBeUndefined();
  });

  it('records an error, and no fingerprint, for a key that does not match the certificate', async () => {
    // Prepare
    const { objects, fleet, counted, deliverNew } = setup();
    await putFolder(objects, 'client', { cert: client.certPem, key: otherKeyPem });

    // Act
    await deliverNew();

    // Assess
    const [record] = (await fleet.load()).certificates;
    expect(record?.error).toMatch(/does not match the certificate/);
    expect(record?.fingerprint).toBeUndefined();
    expect(record?.key?.sha256).toBe(sha256Hex(otherKeyPem));
    expect(counted).toContain('Rejected.certificate-folder');
  });

  it.each<[string, { cert?: string; key?: string; ca?: string }, RegExp]>([
    ['no cert.pem', { key: 'KEY' }, /^no cert\.pem in certificates\/client\/$/],
    ['a cert.pem that is not PEM', { cert: 'hello' }, /certificate.*PEM/],
    ['a key.pem that is not a private key', { cert: 'CERT', key: 'not a key' }, /PEM|private key/],
    ['a ca.pem that holds no certificate', { cert: 'CERT', ca: 'KEY' }, /CA certificate/],
  ])('records an error for a folder with %s', async (_name, files, error) => {
    // Prepare
    const { objects, fleet, deliverNew } = setup();
    const pem = (text: string | undefined) => (text === 'CERT' ? client.certPem : text === 'KEY' ? client.keyPem : text);
    await putFolder(objects, 'client', { ...(files.cert ? { cert: pem(files.cert) } : {}), ...(files.key ? { key: pem(files.key) } : {}), ...(files.ca ? { ca: pem(files.ca) } : {}) });

    // Act
    await deliverNew();

    // Assess
    const snapshot = await fleet.load();
    expect(snapshot.certificates).toEqual([expect.objectContaining({ name: 'client', error: expect.stringMatching(error) })]);
    expect(snapshot.certificates[0]?.fingerprint).toBeUndefined();
  });

  it('records the folder again when one file changes or goes: a removed key.pem is no longer listed', async () => {
    // Prepare
    const { objects, fleet, deliverNew } = setup();
    await putFolder(objects, 'client', { cert: client.certPem, key: otherKeyPem });
    await deliverNew();

    // Act
    await objects.deleteObject('certificates/client/key.pem');
    const outcomes = await deliverNew();

    // Assess
    const [record] = (await fleet.load()).certificates;
    expect(outcomes).toEqual(['recorded']);
    expect(record?.key).toBeUndefined();
    expect(record?.error).toBeUndefined();
    expect(record?.fingerprint).toBe(pemDigest(client.certPem));
  });

  it('removes the certificate with the last file of its folder', async () => {
    // Prepare
    const { objects, fleet, deliverNew } = setup();
    await putFolder(objects, 'client', { cert: client.certPem, key: client.keyPem });
    await deliverNew();

    // Act
    await objects.deleteObject('certificates/client/cert.pem');
    const first = await deliverNew();
    const afterFirst = (await fleet.load()).certificates;
    await objects.deleteObject('certificates/client/key.pem');
    const second = await deliverNew();

    // Assess
    expect([first, second]).toEqual([['recorded'], ['recorded']]);
    expect(afterFirst).toEqual([expect.objectContaining({ error: 'no cert.pem in certificates/client/' })]);
    const snapshot = await fleet.load();
    expect(snapshot.certificates).toEqual([]);
    expect(snapshot.state.certificates.size).toBe(0);
  });

  it('rejects other files in a certificate folder, and records the folder', async () => {
    // Prepare
    const { objects, fleet, deliverNew } = setup();
    await objects.put('certificates/client/README.txt', 'rotated monthly');
    await putFolder(objects, 'client', { cert: client.certPem });

    // Act
    const outcomes = await deliverNew();

    // Assess
    expect(outcomes).toEqual(['rejected', 'recorded']);
    expect((await fleet.load()).certificates).toEqual([expect.objectContaining({ name: 'client', fingerprint: pemDigest(client.certPem) })]);
  });
});

describe('BucketIngest.reconcile: settings and certificates', () => {
  let client: TestCa;
  let rotated: TestCa;

  beforeAll(async () => {
    client = await createTestCa({ isCa: false, subject: 'CN=client, O=Example' });
    rotated = await createTestCa({ isCa: false, subject: 'CN=client, O=Example, OU=2027' });
  });

  async function ingested() {
    const s = setup();
    await s.objects.put('settings/default.json', ROTATION);
    await s.objects.put('settings/logs.json', LOGS);
    await s.objects.put('certificates/client/cert.pem', client.certPem);
    await s.objects.put('certificates/client/key.pem', client.keyPem);
    await s.objects.put('certificates/old/cert.pem', client.certPem);
    await s.deliverNew();
    return s;
  }

  it('records settings and certificate folders whose events were missed, removes what is gone, and bumps the generation once', async () => {
    // Prepare
    const { objects, fleet, ingest, loseNew } = await ingested();
    const generation = Number(await fleet.generation());
    await objects.put('settings/broken.json', MISSPELT);
    await objects.put('certificates/client/cert.pem', rotated.certPem);
    await objects.put('certificates/client/key.pem', rotated.keyPem);
    await objects.put('certificates/new/cert.pem', rotated.certPem);
    objects.silentlyDelete('settings/logs.json');
    objects.silentlyDelete('certificates/old/cert.pem');
    loseNew();

    // Act
    const changed = await ingest.reconcile();

    // Assess
    const snapshot = await fleet.load();
    expect(changed).toBe(5);
    expect(snapshot.settings.map((d) => [d.name, d.settings !== undefined, d.error !== undefined]).sort()).toEqual([
      ['broken', false, true],
      ['default', true, false],
    ]);
    expect(snapshot.certificates.map((c) => [c.name, c.fingerprint]).sort()).toEqual([
      ['client', pemDigest(rotated.certPem)],
      ['new', pemDigest(rotated.certPem)],
    ]);
    expect(Number(await fleet.generation())).toBe(generation + 1);
  });

  it('changes nothing when the bucket is as recorded: no write, no new generation, no settings re-read', async () => {
    // Prepare
    const { objects, fleet, ingest } = await ingested();
    await objects.put('settings/broken.json', MISSPELT);
    await objects.put('certificates/bad/cert.pem', 'not pem');
    await ingest.reconcile();
    const generation = await fleet.generation();
    const before = await fleet.load();
    const reads = objects.gets.length;

    // Act
    const changed = await ingest.reconcile();

    // Assess
    expect(changed).toBe(0);
    expect(await fleet.generation()).toBe(generation);
    expect(await fleet.load()).toEqual(before);
    expect(objects.gets.slice(reads).filter((g) => g.key.startsWith('settings/'))).toEqual([]);
  });

  it('picks up a certificate rotated in place whose events were lost (same keys, new content)', async () => {
    // Prepare
    const { objects, fleet, ingest, loseNew } = await ingested();
    await objects.put('certificates/client/key.pem', rotated.keyPem);
    await objects.put('certificates/client/cert.pem', rotated.certPem);
    loseNew();

    // Act
    const changed = await ingest.reconcile();

    // Assess
    expect(changed).toBe(1);
    const record = (await fleet.load()).certificates.find((c) => c.name === 'client');
    expect(record).toMatchObject({ fingerprint: pemDigest(rotated.certPem), subject: 'CN=client, O=Example, OU=2027' });
    expect(record?.error).toBeUndefined();
  });
});
