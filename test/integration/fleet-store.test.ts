import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoFleetStore } from '../../functions/adapters/dynamodb/fleet-store.js';
import { FLEET_PARTITION, assignmentSortKey, certificateSortKey, configFileSortKey, settingsSortKey } from '../../functions/adapters/dynamodb/table-schema.js';
import { configHash } from '../../functions/core/config-hash.js';
import type { ConnectionSettingsSpec } from '../../functions/core/connection-settings.js';
import type { ConfigAssignment } from '../../functions/core/fleet.js';
import { parseSelector } from '../../functions/core/selector.js';
import type { CertificateRecord, ConfigFileRecord, IngestOrder } from '../../functions/ports/fleet-store.js';
import { freshTable } from './fleet-table.js';
import { countCommands, emulatorClients } from './harness.js';

const T0 = Date.UTC(2026, 0, 1);
const clients = emulatorClients();

let tableName: string;
let store: DynamoFleetStore;

// A fresh table for every test: load() reads the whole fleet partition.
beforeEach(async () => {
  tableName = await freshTable(clients.dynamodb);
  store = new DynamoFleetStore(clients.dynamodb, tableName);
});

function fileRecord(fileName: string, content: string, overrides: Partial<ConfigFileRecord> = {}): ConfigFileRecord {
  return {
    configName: 'checkout',
    fileName,
    objectKey: `configs/checkout/${fileName}`,
    sha256: Buffer.from(content).toString('hex').padEnd(64, '0').slice(0, 64),
    size: content.length,
    contentType: 'text/yaml',
    updatedAt: T0,
    ...overrides,
  };
}

const assignment = (config: string, selector = 'service.name=checkout', priority = 0): Omit<ConfigAssignment, 'error'> => ({
  name: 'route',
  config,
  selector: parseSelector(selector),
  priority,
});

async function rawItem(sortKey: string) {
  const out = await clients.dynamodb.send(
    new GetItemCommand({
      TableName: tableName,
      Key: { pk: { S: FLEET_PARTITION }, sk: { S: sortKey } },
      ConsistentRead: true,
    }),
  );
  return out.Item;
}

describe('DynamoFleetStore', () => {
  describe('event order (the conditional write on the sequencer)', () => {
    it.each<[string, string, string, boolean]>([
      ['an older event is refused', '0055AEBB1F8D9A2B32', '0055AEBB1F8D9A2B31', false],
      ['an equal sequencer is accepted (a redelivered event)', '0055AEBB1F8D9A2B31', '0055AEBB1F8D9A2B31', true],
      ['a newer event is accepted', '0055AEBB1F8D9A2B31', '0055AEBB1F8D9A2B32', true],
      ['a newer, longer sequencer is accepted', 'FFFF', '10000', true],
      ['an older, shorter sequencer is refused', '10000', 'FFFF', false],
      ['the same sequencer in another case is accepted', 'abc', 'ABC', true],
    ])('putConfigFile: %s', async (_name, first, second, accepted) => {
      // Prepare
      await store.putConfigFile(fileRecord('c.yaml', 'first'), { sequencer: first });

      // Act
      const result = await store.putConfigFile(fileRecord('c.yaml', 'second'), { sequencer: second });

      // Assess
      expect(result).toBe(accepted);
      const { configFiles } = await store.load();
      expect(configFiles.map((f) => f.sha256)).toEqual([fileRecord('c.yaml', accepted ? 'second' : 'first').sha256]);
    });

    it.each<[string, (order: IngestOrder) => Promise<boolean>]>([
      ['removeConfigFile', (order) => store.removeConfigFile('checkout', 'c.yaml', order, T0)],
      ['putConfigFile', (order) => store.putConfigFile(fileRecord('c.yaml', 'older'), order)],
    ])('%s with an older sequencer than the recorded one changes nothing', async (_name, write) => {
      // Prepare
      await store.putConfigFile(fileRecord('c.yaml', 'newer'), { sequencer: '0200' });

      // Act
      const result = await write({ sequencer: '0100' });

      // Assess
      expect(result).toBe(false);
      expect((await store.load()).configFiles.map((f) => f.sha256)).toEqual([fileRecord('c.yaml', 'newer').sha256]);
    });

    it.each<[string, (order: IngestOrder) => Promise<boolean>]>([
      ['putAssignment', (order) => store.putAssignment('route', assignment('older'), order, T0)],
      ['rejectAssignment', (order) => store.rejectAssignment('route', 'assignments/route.json: bad', order, T0)],
      ['removeAssignment', (order) => store.removeAssignment('route', order, T0)],
    ])('%s with an older sequencer than the recorded one changes nothing', async (_name, write) => {
      // Prepare
      await store.putAssignment('route', assignment('newer'), { sequencer: '0200' }, T0);

      // Act
      const result = await write({ sequencer: '0100' });

      // Assess
      expect(result).toBe(false);
      const { assignments } = await store.load();
      expect(assignments).toEqual([expect.objectContaining({ name: 'route', assignment: assignment('newer') })]);
      expect(assignments[0]?.error).toBeUndefined();
    });

    it('applies writes from a listing (no sequencer) and keeps the recorded sequencer for later events', async () => {
      // Prepare
      await store.putConfigFile(fileRecord('c.yaml', 'event'), { sequencer: '0500' });

      // Act
      const fromListing = await store.putConfigFile(fileRecord('c.yaml', 'listing'), {});
      const older = await store.putConfigFile(fileRecord('c.yaml', 'older event'), { sequencer: '0400' });
      const afterOlder = (await store.load()).configFiles[0]?.sha256;
      const newer = await store.putConfigFile(fileRecord('c.yaml', 'newer event'), { sequencer: '0600' });

      // Assess
      expect([fromListing, older, newer]).toEqual([true, false, true]);
      expect(afterOlder).toBe(fileRecord('c.yaml', 'listing').sha256);
      expect((await store.load()).configFiles[0]?.sha256).toBe(fileRecord('c.yaml', 'newer event').sha256);
    });
  });

  describe('tombstones', () => {
    it('hide a removed file from load() and carry expiresAt', async () => {
      // Prepare
      await store.putConfigFile(fileRecord('a.yaml', 'a'), { sequencer: '01' });
      await store.putConfigFile(fileRecord('b.yaml', 'b'), { sequencer: '01' });

      // Act
      const removed = await store.removeConfigFile('checkout', 'a.yaml', { sequencer: '02' }, T0);

      // Assess
      expect(removed).toBe(true);
      const { configFiles, state } = await store.load();
      expect(configFiles.map((f) => f.fileName)).toEqual(['b.yaml']);
      expect(state.configs.get('checkout')?.files.map((f) => f.fileName)).toEqual(['b.yaml']);
      const item = await rawItem(configFileSortKey('checkout', 'a.yaml'));
      expect(item?.removed?.BOOL).toBe(true);
      const expiresAt = Number(item?.expiresAt?.N);
      expect(expiresAt).toBeGreaterThan(Math.floor(T0 / 1000));
      expect(expiresAt).toBeLessThanOrEqual(Math.floor(T0 / 1000) + 31 * 86_400);
    });

    it('hide a removed assignment from load()', async () => {
      // Prepare
      await store.putAssignment('route', assignment('checkout'), { sequencer: '01' }, T0);

      // Act
      await store.removeAssignment('route', { sequencer: '02' }, T0);

      // Assess
      const { assignments, state } = await store.load();
      expect(assignments).toEqual([]);
      expect(state.assignments).toEqual([]);
      expect((await rawItem(assignmentSortKey('route')))?.expiresAt?.N).toBeDefined();
    });

    it('keep a late event for an older upload from bringing the file back', async () => {
      // Prepare
      await store.putConfigFile(fileRecord('a.yaml', 'a'), { sequencer: '01' });
      await store.removeConfigFile('checkout', 'a.yaml', { sequencer: '03' }, T0);

      // Act
      const late = await store.putConfigFile(fileRecord('a.yaml', 'a'), { sequencer: '02' });

      // Assess
      expect(late).toBe(false);
      expect((await store.load()).configFiles).toEqual([]);
    });

    it('give way to a newer upload, which no longer expires', async () => {
      // Prepare
      await store.removeConfigFile('checkout', 'a.yaml', { sequencer: '01' }, T0);

      // Act
      const recreated = await store.putConfigFile(fileRecord('a.yaml', 'again'), { sequencer: '02' });

      // Assess
      expect(recreated).toBe(true);
      expect((await store.load()).configFiles.map((f) => f.fileName)).toEqual(['a.yaml']);
      const item = await rawItem(configFileSortKey('checkout', 'a.yaml'));
      expect(item?.removed).toBeUndefined();
      expect(item?.expiresAt).toBeUndefined();
    });
  });

  describe('rejectAssignment', () => {
    it('keeps the previous valid content in force and sets the error', async () => {
      // Prepare
      const valid = assignment('checkout', 'service.name=checkout,deployment.environment=prod', 7);
      await store.putAssignment('route', valid, { sequencer: '01' }, T0, '"etag-1"');

      // Act
      const rejected = await store.rejectAssignment('route', 'assignments/route.json: prio: unknown field', { sequencer: '02' }, T0 + 1_000, '"etag-2"');

      // Assess
      expect(rejected).toBe(true);
      const { assignments, state } = await store.load();
      expect(assignments).toEqual([
        {
          name: 'route',
          assignment: valid,
          error: 'assignments/route.json: prio: unknown field',
          errorAt: T0 + 1_000,
          etag: '"etag-2"',
          updatedAt: T0 + 1_000,
        },
      ]);
      expect(state.assignments).toEqual([{ ...valid, error: 'assignments/route.json: prio: unknown field' }]);
    });

    it('records a never-valid assignment with its error, not in force', async () => {
      // Act
      await store.rejectAssignment('route', 'assignments/route.json: not valid JSON', { sequencer: '01' }, T0);

      // Assess
      const { assignments, state } = await store.load();
      expect(assignments).toEqual([expect.objectContaining({ name: 'route', error: 'assignments/route.json: not valid JSON' })]);
      expect(assignments[0]?.assignment).toBeUndefined();
      expect(state.assignments).toEqual([]);
    });

    it('does not bring a removed assignment back in force', async () => {
      // Prepare
      await store.putAssignment('route', assignment('checkout'), { sequencer: '01' }, T0);
      await store.removeAssignment('route', { sequencer: '02' }, T0);

      // Act
      await store.rejectAssignment('route', 'assignments/route.json: bad', { sequencer: '03' }, T0);

      // Assess
      const { assignments, state } = await store.load();
      expect(assignments[0]?.assignment).toBeUndefined();
      expect(state.assignments).toEqual([]);
    });

    it('is cleared by a later valid upload', async () => {
      // Prepare
      await store.rejectAssignment('route', 'assignments/route.json: bad', { sequencer: '01' }, T0);

      // Act
      await store.putAssignment('route', assignment('checkout', 'a=b', 3), { sequencer: '02' }, T0);

      // Assess
      const { assignments } = await store.load();
      expect(assignments[0]?.error).toBeUndefined();
      expect(assignments[0]?.assignment).toEqual(assignment('checkout', 'a=b', 3));
    });
  });

  describe('round trip', () => {
    it('returns every field of a configuration file and of an assignment as written', async () => {
      // Prepare
      const withEverything = fileRecord('dir/with#hash and space.yaml', 'x', { versionId: 'v-123', etag: '"abc"', error: '2000000 bytes is too many' });
      const byUid: Omit<ConfigAssignment, 'error'> = { name: 'canary', config: 'canary', instanceUid: '0192f9e4-8a1b-7c3d-9e4f-a1b2c3d4e5f6', priority: -4 };

      // Act
      await store.putConfigFile(withEverything, { sequencer: '01' });
      await store.putAssignment('canary', byUid, { sequencer: '01' }, T0, '"e"');
      const { configFiles, assignments, state } = await store.load();

      // Assess
      expect(configFiles).toEqual([withEverything]);
      expect(assignments).toEqual([{ name: 'canary', assignment: byUid, etag: '"e"', updatedAt: T0 }]);
      expect(state.configs.has('checkout')).toBe(false);
    });
  });

  describe('settings documents', () => {
    const ROTATION: ConnectionSettingsSpec = {
      opamp: { token: 'rotation-2026', headers: { 'X-Tenant': 'blue' }, heartbeat: { idleSeconds: 120, pendingSeconds: 10 } },
      ownMetrics: { endpoint: 'https://otlp.example/v1/metrics', certificate: 'bucket:telemetry-client', tls: { minVersion: '1.3' } },
      otherConnections: { jaeger: { endpoint: 'jaeger:14250', otherSettings: { mode: 'grpc' } } },
    };
    const OTHER: ConnectionSettingsSpec = { ownLogs: { endpoint: 'https://logs.example/v1/logs' } };

    it('returns a document as written, in force, stored as one JSON string', async () => {
      // Act
      const put = await store.putSettings('rotation', ROTATION, { sequencer: '01' }, T0, '"etag-1"');
      const { settings, state } = await store.load();

      // Assess
      expect(put).toBe(true);
      expect(settings).toEqual([{ name: 'rotation', settings: ROTATION, etag: '"etag-1"', updatedAt: T0 }]);
      expect(state.settings.get('rotation')).toEqual(ROTATION);
      const item = await rawItem(settingsSortKey('rotation'));
      expect(JSON.parse(item?.spec?.S ?? '')).toEqual(ROTATION);
    });

    it.each<[string, (order: IngestOrder) => Promise<boolean>]>([
      ['putSettings', (order) => store.putSettings('rotation', OTHER, order, T0)],
      ['rejectSettings', (order) => store.rejectSettings('rotation', 'settings/rotation.json: bad', order, T0)],
      ['removeSettings', (order) => store.removeSettings('rotation', order, T0)],
    ])('%s with an older sequencer than the recorded one changes nothing', async (_name, write) => {
      // Prepare
      await store.putSettings('rotation', ROTATION, { sequencer: '0200' }, T0);

      // Act
      const result = await write({ sequencer: '0100' });

      // Assess
      expect(result).toBe(false);
      const { settings } = await store.load();
      expect(settings).toEqual([{ name: 'rotation', settings: ROTATION, updatedAt: T0 }]);
    });

    it('keeps the previous valid document in force beside the error of a rejected upload', async () => {
      // Prepare
      await store.putSettings('rotation', ROTATION, { sequencer: '01' }, T0, '"etag-1"');

      // Act
      const rejected = await store.rejectSettings('rotation', 'settings/rotation.json: opamp.tokn: unknown field', { sequencer: '02' }, T0 + 1_000, '"etag-2"');

      // Assess
      expect(rejected).toBe(true);
      const { settings, state } = await store.load();
      expect(settings).toEqual([
        {
          name: 'rotation',
          settings: ROTATION,
          error: 'settings/rotation.json: opamp.tokn: unknown field',
          errorAt: T0 + 1_000,
          etag: '"etag-2"',
          updatedAt: T0 + 1_000,
        },
      ]);
      expect(state.settings.get('rotation')).toEqual(ROTATION);
    });

    it('records a never-valid document with its error, not in force', async () => {
      // Act
      await store.rejectSettings('broken', 'settings/broken.json: not valid JSON', { sequencer: '01' }, T0);

      // Assess
      const { settings, state } = await store.load();
      expect(settings).toEqual([{ name: 'broken', error: 'settings/broken.json: not valid JSON', errorAt: T0, updatedAt: T0 }]);
      expect(state.settings.size).toBe(0);
    });

    it('clears the error with a later valid upload, which replaces the document', async () => {
      // Prepare
      await store.putSettings('rotation', ROTATION, { sequencer: '01' }, T0);
      await store.rejectSettings('rotation', 'settings/rotation.json: bad', { sequencer: '02' }, T0);

      // Act
      await store.putSettings('rotation', OTHER, { sequencer: '03' }, T0 + 5);

      // Assess
      const { settings, state } = await store.load();
      expect(settings).toEqual([{ name: 'rotation', settings: OTHER, updatedAt: T0 + 5 }]);
      expect(state.settings.get('rotation')).toEqual(OTHER);
    });

    it('tombstones a removed document, which a late event for an older upload cannot bring back', async () => {
      // Prepare
      await store.putSettings('rotation', ROTATION, { sequencer: '01' }, T0);
      await store.removeSettings('rotation', { sequencer: '03' }, T0);

      // Act
      const late = await store.putSettings('rotation', ROTATION, { sequencer: '02' }, T0);
      const lateRejection = await store.rejectSettings('rotation', 'settings/rotation.json: bad', { sequencer: '02' }, T0);

      // Assess
      expect([late, lateRejection]).toEqual([false, false]);
      const { settings, state } = await store.load();
      expect(settings).toEqual([]);
      expect(state.settings.size).toBe(0);
      expect((await rawItem(settingsSortKey('rotation')))?.expiresAt?.N).toBeDefined();
    });

    it('does not bring a removed document back in force with a later rejected upload', async () => {
      // Prepare
      await store.putSettings('rotation', ROTATION, { sequencer: '01' }, T0);
      await store.removeSettings('rotation', { sequencer: '02' }, T0);

      // Act
      await store.rejectSettings('rotation', 'settings/rotation.json: bad', { sequencer: '03' }, T0);

      // Assess
      const { settings, state } = await store.load();
      expect(settings).toEqual([expect.objectContaining({ name: 'rotation', error: 'settings/rotation.json: bad' })]);
      expect(settings[0]?.settings).toBeUndefined();
      expect(state.settings.size).toBe(0);
    });

    it('keeps settings, assignments and their sort keys apart: an assignment giving settings round-trips', async () => {
      // Prepare
      const giving: Omit<ConfigAssignment, 'error'> = { name: 'rotation', settings: 'rotation', selector: parseSelector('env=prod'), priority: 2 };

      // Act
      await store.putAssignment('rotation', giving, { sequencer: '01' }, T0);
      await store.putSettings('rotation', ROTATION, { sequencer: '01' }, T0);
      const { assignments, settings, state } = await store.load();

      // Assess
      expect(assignments).toEqual([{ name: 'rotation', assignment: giving, updatedAt: T0 }]);
      expect(settings.map((d) => d.name)).toEqual(['rotation']);
      expect(state.assignments).toEqual([giving]);
      expect((await rawItem(assignmentSortKey('rotation')))?.settings?.S).toBe('rotation');
    });
  });

  describe('certificate folders', () => {
    const file = (name: string, role: string, sha = 'a'.repeat(64), versionId?: string) => ({ objectKey: `certificates/${name}/${role}.pem`, sha256: sha, ...(versionId ? { versionId } : {}) });
    const VALID: CertificateRecord = {
      name: 'client',
      cert: file('client', 'cert', 'c'.repeat(64), 'v1'),
      key: file('client', 'key', 'k'.repeat(64)),
      ca: file('client', 'ca', 'd'.repeat(64), 'v3'),
      fingerprint: 'f'.repeat(64),
      subject: 'CN=client, O=Example',
      notAfter: T0 + 365 * 86_400_000,
      scannedAt: T0,
    };

    it('returns every field of a folder as written, and puts it in the fleet state', async () => {
      // Act
      const put = await store.putCertificate(VALID, 0);
      const { certificates, state } = await store.load();

      // Assess
      expect(put).toBe(true);
      expect(certificates).toEqual([VALID]);
      const { scannedAt: _scannedAt, ...meta } = VALID;
      expect(state.certificates.get('client')).toEqual(expect.objectContaining(meta));
    });

    it('returns a folder in error with only the files it has', async () => {
      // Prepare
      const keyOnly: CertificateRecord = { name: 'client', key: file('client', 'key'), error: 'no cert.pem in certificates/client/', scannedAt: T0 };

      // Act
      await store.putCertificate(keyOnly, 0);

      // Assess
      expect((await store.load()).certificates).toEqual([keyOnly]);
    });

    it("writes only over the revision read before the listing, whatever the listings' clocks say", async () => {
      // Prepare
      await store.putCertificate(VALID, 0);
      const later: CertificateRecord = { ...VALID, fingerprint: 'e'.repeat(64), scannedAt: T0 - 1 };

      // Act
      const overOld = await store.putCertificate({ ...later, scannedAt: T0 + 1 }, 0);
      const revision = await store.certificateRevision('client');
      const overCurrent = await store.putCertificate(later, revision);

      // Assess
      expect([overOld, revision, overCurrent]).toEqual([false, 1, true]);
      expect((await store.load()).certificates).toEqual([later]);
    });

    it('removes a folder over the current revision only, and lets a listing made after the removal bring it back', async () => {
      // Prepare
      await store.putCertificate({ ...VALID, scannedAt: T0 + 10 }, 0);

      // Act
      const stale = await store.removeCertificate('client', T0 + 20, 0);
      const afterStale = (await store.load()).certificates.length;
      const removed = await store.removeCertificate('client', T0 + 5, 1);
      const afterRemoval = await store.load();
      const staleListing = await store.putCertificate({ ...VALID, scannedAt: T0 + 30 }, 1);
      const newListing = await store.putCertificate({ ...VALID, scannedAt: T0 + 1 }, await store.certificateRevision('client'));

      // Assess
      expect([stale, removed, staleListing, newListing]).toEqual([false, true, false, true]);
      expect(afterStale).toBe(1);
      expect(afterRemoval.certificates).toEqual([]);
      expect(afterRemoval.state.certificates.size).toBe(0);
      expect((await store.load()).certificates).toEqual([{ ...VALID, scannedAt: T0 + 1 }]);
      expect((await rawItem(certificateSortKey('client')))?.expiresAt).toBeUndefined();
    });
  });

  describe('generation', () => {
    it('starts at 0 and increases with every bumpGeneration, as load() reports it', async () => {
      // Act
      const seen = [await store.generation()];
      await store.bumpGeneration();
      seen.push(await store.generation());
      await store.bumpGeneration();
      seen.push(await store.generation());

      // Assess
      expect(seen).toEqual(['0', '1', '2']);
      expect((await store.load()).state.generation).toBe('2');
    });

    it('does not move with writes alone', async () => {
      // Act
      await store.putConfigFile(fileRecord('a.yaml', 'a'), { sequencer: '01' });

      // Assess
      expect(await store.generation()).toBe('0');
    });
  });

  describe('load()', () => {
    it('pages through more than 1 MB of items', async () => {
      // Prepare: 160 files with long names and long content types, about 8 KB per item.
      const longType = `text/yaml; profile=${'p'.repeat(6_000)}`;
      const files = Array.from({ length: 160 }, (_, i) => fileRecord(`${String(i).padStart(4, '0')}-${'n'.repeat(900)}.yaml`, `content ${i}`, { contentType: longType }));
      for (let i = 0; i < files.length; i += 20) {
        await Promise.all(files.slice(i, i + 20).map((f) => store.putConfigFile(f, { sequencer: '01' })));
      }
      await store.putAssignment('route', assignment('checkout'), { sequencer: '01' }, T0);
      await store.bumpGeneration();
      const pagedClient = emulatorClients();
      const commands = countCommands(pagedClient.dynamodb);
      const reader = new DynamoFleetStore(pagedClient.dynamodb, tableName);

      // Act
      const { configFiles, assignments, state } = await reader.load();

      // Assess
      expect(commands.get('QueryCommand')).toBeGreaterThanOrEqual(2);
      expect(configFiles).toHaveLength(160);
      expect(new Set(configFiles.map((f) => f.fileName))).toEqual(new Set(files.map((f) => f.fileName)));
      expect(assignments.map((a) => a.name)).toEqual(['route']);
      expect(state.generation).toBe('1');
      expect(state.configs.get('checkout')?.files).toHaveLength(160);
      expect(state.configs.get('checkout')?.hash).toBe(configHash(files));
    });
  });
});
