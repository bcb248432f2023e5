import { ConditionalCheckFailedException, DeleteItemCommand, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ConfigAssignment } from '../../core/fleet.js';
import { comparableSequencer } from '../../core/bucket-layout.js';
import type { ConnectionSettingsSpec } from '../../core/connection-settings.js';
import { buildFleetState } from '../../core/fleet.js';
import { formatSelector } from '../../core/selector.js';
import type { Rollout } from '../../core/rollouts/rollout.js';
import type { AssignmentRecord, CertificateRecord, ConfigFileRecord, FleetSnapshot, FleetStore, IngestOrder, PackageVersionRecord, SettingsRecord } from '../../ports/fleet-store.js';
import { translateDynamoError } from './errors.js';
import { queryPartition } from './query-pages.js';
import { CERTIFICATE_ROLES, certificateFileItem, itemToAssignment, itemToCertificate, itemToConfigFile, itemToPackageVersion, itemToSettings } from './fleet-items.js';
import {
  FLEET_PARTITION,
  FLEET_META_SORT_KEY,
  TTL_ATTRIBUTE,
  assignmentSortKey,
  certificateSortKey,
  configFileSortKey,
  packageVersionSortKey,
  rolloutSortKey,
  settingsSortKey,
} from './table-schema.js';

type Item = Record<string, AttributeValue>;

/** Folder records count their writes in this attribute (see putRevised). */
const REVISION_ATTRIBUTE = 'revision';

/** Removed objects leave a marker this long, so that a late event for an older upload cannot bring them back. */
const TOMBSTONE_RETENTION_SECONDS = 7 * 86_400;

/**
 * Fleet metadata lives in one partition, so that a function instance rebuilds
 * its cache with a single query, and only when the generation counter moved.
 */
export class DynamoFleetStore implements FleetStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async generation(): Promise<string> {
    const out = await this.client.send(new GetItemCommand({ TableName: this.table, Key: key(FLEET_META_SORT_KEY), ConsistentRead: true })).catch((e) => translateDynamoError(e, 'GetItem'));
    return out.Item?.generation?.N ?? '0';
  }

  async load(): Promise<FleetSnapshot> {
    const items: Item[] = [];
    for await (const item of queryPartition(this.client, { table: this.table, pk: FLEET_PARTITION })) items.push(item);

    let generation = '0';
    const configFiles: ConfigFileRecord[] = [];
    const assignments: AssignmentRecord[] = [];
    const packageVersions: PackageVersionRecord[] = [];
    const settings: SettingsRecord[] = [];
    const certificates: CertificateRecord[] = [];
    const rollouts: Rollout[] = [];
    for (const item of items) {
      const sk = item.sk?.S ?? '';
      if (sk === FLEET_META_SORT_KEY) generation = item.generation?.N ?? '0';
      else if (item.removed?.BOOL) continue;
      else if (sk.startsWith('config#')) configFiles.push(itemToConfigFile(item));
      else if (sk.startsWith('assignment#')) assignments.push(itemToAssignment(item));
      else if (sk.startsWith('package#')) packageVersions.push(itemToPackageVersion(item));
      else if (sk.startsWith('settings#')) settings.push(itemToSettings(item));
      else if (sk.startsWith('certificate#')) certificates.push(itemToCertificate(item));
      else if (sk.startsWith('rollout#')) rollouts.push(JSON.parse(item.rollout?.S ?? '{}') as Rollout);
    }
    return {
      state: buildFleetState(generation, configFiles, assignments, packageVersions, settings, certificates, rollouts),
      configFiles,
      assignments,
      packageVersions,
      settings,
      certificates,
      rollouts,
    };
  }

  async configFiles(configName: string): Promise<ConfigFileRecord[]> {
    const files: ConfigFileRecord[] = [];
    for await (const item of queryPartition(this.client, { table: this.table, pk: FLEET_PARTITION, skPrefix: configFileSortKey(configName, '') })) {
      if (!item.removed?.BOOL) files.push(itemToConfigFile(item));
    }
    return files;
  }

  async putConfigFile(file: ConfigFileRecord, order: IngestOrder): Promise<boolean> {
    const item: Item = {
      pk: { S: FLEET_PARTITION },
      sk: { S: configFileSortKey(file.configName, file.fileName) },
      configName: { S: file.configName },
      fileName: { S: file.fileName },
      objectKey: { S: file.objectKey },
      sha256: { S: file.sha256 },
      size: { N: String(file.size) },
      contentType: { S: file.contentType },
      updatedAt: { N: String(file.updatedAt) },
    };
    if (file.versionId) item.versionId = { S: file.versionId };
    if (file.etag) item.etag = { S: file.etag };
    if (file.error !== undefined) item.error = { S: file.error };
    return this.putOrdered(item, order);
  }

  async removeConfigFile(configName: string, fileName: string, order: IngestOrder, now: number): Promise<boolean> {
    return this.putOrdered(tombstone(configFileSortKey(configName, fileName), now), order);
  }

  async putAssignment(name: string, assignment: Omit<ConfigAssignment, 'error'>, order: IngestOrder, now: number, etag?: string): Promise<boolean> {
    const content: Item = { priority: { N: String(assignment.priority) } };
    if (assignment.config !== undefined) content.config = { S: assignment.config };
    if (assignment.packages !== undefined) content.packages = { M: Object.fromEntries(Object.entries(assignment.packages).map(([k, v]) => [k, { S: v }])) };
    if (assignment.settings !== undefined) content.settings = { S: assignment.settings };
    if (assignment.instanceUid !== undefined) content.instanceUid = { S: assignment.instanceUid };
    if (assignment.selector !== undefined) content.selector = { S: formatSelector(assignment.selector) };
    // Validated at ingest and only ever read whole: one string attribute.
    if (assignment.rollout !== undefined) content.rollout = { S: JSON.stringify(assignment.rollout) };
    return this.putValidated(assignmentSortKey(name), name, content, order, now, etag);
  }

  async rejectAssignment(name: string, error: string, order: IngestOrder, now: number, etag?: string): Promise<boolean> {
    return this.rejectValidated(assignmentSortKey(name), name, error, order, now, etag);
  }

  async removeAssignment(name: string, order: IngestOrder, now: number): Promise<boolean> {
    return this.putOrdered(tombstone(assignmentSortKey(name), now), order);
  }

  async putSettings(name: string, settings: ConnectionSettingsSpec, order: IngestOrder, now: number, etag?: string): Promise<boolean> {
    // One string attribute: the document was validated at ingest, and is only ever read whole.
    return this.putValidated(settingsSortKey(name), name, { spec: { S: JSON.stringify(settings) } }, order, now, etag);
  }

  async rejectSettings(name: string, error: string, order: IngestOrder, now: number, etag?: string): Promise<boolean> {
    return this.rejectValidated(settingsSortKey(name), name, error, order, now, etag);
  }

  async removeSettings(name: string, order: IngestOrder, now: number): Promise<boolean> {
    return this.putOrdered(tombstone(settingsSortKey(name), now), order);
  }

  /**
   * Puts a document that passed validation (an assignment, a settings
   * document), replacing any error recorded for an earlier upload.
   */
  private async putValidated(sortKey: string, name: string, content: Item, order: IngestOrder, now: number, etag: string | undefined): Promise<boolean> {
    const item: Item = {
      ...content,
      pk: { S: FLEET_PARTITION },
      sk: { S: sortKey },
      name: { S: name },
      // Marks content that passed validation (a later rejected upload keeps it).
      valid: { BOOL: true },
      updatedAt: { N: String(now) },
    };
    if (etag) item.etag = { S: etag };
    return this.putOrdered(item, order);
  }

  /** Records why the latest upload of a document was rejected, keeping its last valid content. */
  private async rejectValidated(sortKey: string, name: string, error: string, order: IngestOrder, now: number, etag: string | undefined): Promise<boolean> {
    // An update, not a put: the last valid content stays in force beside the error.
    const sequencer = orderValue(order);
    const values: Item = { ':name': { S: name }, ':error': { S: error }, ':now': { N: String(now) }, ':etag': { S: etag ?? '' } };
    if (sequencer !== undefined) values[':seq'] = { S: sequencer };
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: key(sortKey),
          UpdateExpression: `SET #name = :name, #error = :error, errorAt = :now, updatedAt = :now, etag = :etag${sequencer === undefined ? '' : ', sequencer = :seq'} REMOVE removed, ${TTL_ATTRIBUTE}`,
          ...(sequencer === undefined ? {} : { ConditionExpression: 'attribute_not_exists(sk) OR sequencer <= :seq' }),
          ExpressionAttributeNames: { '#name': 'name', '#error': 'error' },
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      return translateDynamoError(error, 'UpdateItem');
    }
  }

  packageRevision(name: string, version: string): Promise<number> {
    return this.revision(packageVersionSortKey(name, version));
  }

  async putPackageVersion(record: PackageVersionRecord, revision: number): Promise<boolean> {
    const item: Item = {
      pk: { S: FLEET_PARTITION },
      sk: { S: packageVersionSortKey(record.name, record.version) },
      name: { S: record.name },
      version: { S: record.version },
      objectKey: { S: record.objectKey },
      sha256: { S: record.sha256 },
      size: { N: String(record.size) },
      scannedAt: { N: String(record.scannedAt) },
    };
    if (record.signature !== undefined) item.signature = { S: record.signature };
    if (record.error !== undefined) item.error = { S: record.error };
    return this.putRevised(item, revision);
  }

  async removePackageVersion(name: string, version: string, scannedAt: number, revision: number): Promise<boolean> {
    return this.putRevised({ ...tombstone(packageVersionSortKey(name, version), scannedAt), scannedAt: { N: String(scannedAt) } }, revision);
  }

  certificateRevision(name: string): Promise<number> {
    return this.revision(certificateSortKey(name));
  }

  async putCertificate(record: CertificateRecord, revision: number): Promise<boolean> {
    const item: Item = {
      pk: { S: FLEET_PARTITION },
      sk: { S: certificateSortKey(record.name) },
      name: { S: record.name },
      scannedAt: { N: String(record.scannedAt) },
    };
    for (const role of CERTIFICATE_ROLES) {
      const file = record[role];
      if (file) item[role] = { M: certificateFileItem(file) };
    }
    if (record.fingerprint !== undefined) item.fingerprint = { S: record.fingerprint };
    if (record.subject !== undefined) item.subject = { S: record.subject };
    if (record.notAfter !== undefined) item.notAfter = { N: String(record.notAfter) };
    if (record.error !== undefined) item.error = { S: record.error };
    return this.putRevised(item, revision);
  }

  async removeCertificate(name: string, scannedAt: number, revision: number): Promise<boolean> {
    return this.putRevised({ ...tombstone(certificateSortKey(name), scannedAt), scannedAt: { N: String(scannedAt) } }, revision);
  }

  /** A folder record's revision, read strongly (it must not be older than the listing that follows). */
  private async revision(sortKey: string): Promise<number> {
    const out = await this.client
      .send(
        new GetItemCommand({
          TableName: this.table,
          Key: key(sortKey),
          ConsistentRead: true,
          ProjectionExpression: '#rev',
          ExpressionAttributeNames: { '#rev': REVISION_ATTRIBUTE },
        }),
      )
      .catch((e) => translateDynamoError(e, 'GetItem'));
    return Number(out.Item?.[REVISION_ATTRIBUTE]?.N ?? 0);
  }

  /**
   * Puts a folder record as the next revision, only if the stored one is still
   * the one read before the folder was listed (items from before revisions
   * count as 0).
   */
  private async putRevised(item: Item, revision: number): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: { ...item, [REVISION_ATTRIBUTE]: { N: String(revision + 1) } },
          ...(revision === 0
            ? { ConditionExpression: 'attribute_not_exists(#rev)', ExpressionAttributeNames: { '#rev': REVISION_ATTRIBUTE } }
            : { ConditionExpression: '#rev = :rev', ExpressionAttributeNames: { '#rev': REVISION_ATTRIBUTE }, ExpressionAttributeValues: { ':rev': { N: String(revision) } } }),
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      return translateDynamoError(error, 'PutItem');
    }
  }

  async putRollout(rollout: Rollout): Promise<boolean> {
    // One string attribute: a rollout is only ever read whole, with the fleet state.
    const item: Item = { ...key(rolloutSortKey(rollout.assignment, rollout.aspect)), rollout: { S: JSON.stringify(rollout) } };
    return this.putRevised(item, rollout.revision - 1);
  }

  async removeRollout(assignment: string, aspect: string, revision: number): Promise<boolean> {
    try {
      await this.client.send(
        new DeleteItemCommand({
          TableName: this.table,
          Key: key(rolloutSortKey(assignment, aspect)),
          ConditionExpression: '#rev = :rev',
          ExpressionAttributeNames: { '#rev': REVISION_ATTRIBUTE },
          ExpressionAttributeValues: { ':rev': { N: String(revision) } },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      return translateDynamoError(error, 'DeleteItem');
    }
  }

  async bumpGeneration(): Promise<void> {
    await this.client
      .send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: key(FLEET_META_SORT_KEY),
          UpdateExpression: 'ADD generation :one',
          ExpressionAttributeValues: { ':one': { N: '1' } },
        }),
      )
      .catch((e) => translateDynamoError(e, 'UpdateItem'));
  }

  /**
   * Puts the item unless a later event for the same object was recorded. Writes from
   * a listing (no sequencer) keep the stored sequencer, so later events still
   * apply after them.
   */
  private async putOrdered(item: Item, order: IngestOrder): Promise<boolean> {
    const sequencer = orderValue(order);
    try {
      if (sequencer === undefined) {
        const current = await this.client
          .send(new GetItemCommand({ TableName: this.table, Key: { pk: item.pk!, sk: item.sk! }, ConsistentRead: true }))
          .catch((e) => translateDynamoError(e, 'GetItem'));
        item.sequencer = current.Item?.sequencer ?? { S: '' };
        await this.client.send(new PutItemCommand({ TableName: this.table, Item: item }));
        return true;
      }
      item.sequencer = { S: sequencer };
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: item,
          ConditionExpression: 'attribute_not_exists(sk) OR sequencer <= :seq',
          ExpressionAttributeValues: { ':seq': { S: sequencer } },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      return translateDynamoError(error, 'PutItem');
    }
  }
}

function orderValue(order: IngestOrder): string | undefined {
  return order.sequencer === undefined ? undefined : comparableSequencer(order.sequencer);
}

function key(sortKey: string): Item {
  return { pk: { S: FLEET_PARTITION }, sk: { S: sortKey } };
}

function tombstone(sortKey: string, now: number): Item {
  return {
    pk: { S: FLEET_PARTITION },
    sk: { S: sortKey },
    removed: { BOOL: true },
    updatedAt: { N: String(now) },
    [TTL_ATTRIBUTE]: { N: String(Math.floor(now / 1000) + TOMBSTONE_RETENTION_SECONDS) },
  };
}
