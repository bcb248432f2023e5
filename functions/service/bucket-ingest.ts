import { AssignmentFileError, parseAssignment } from '../core/assignment-file.js';
import {
  ASSIGNMENTS_PREFIX,
  CERTIFICATE_FILES,
  CERTIFICATES_PREFIX,
  CONFIGS_PREFIX,
  PACKAGES_PREFIX,
  SETTINGS_PREFIX,
  SIGNATURE_SUFFIX,
  assignmentObjectKey,
  certificateFolder,
  certificateObjectKey,
  classifyObjectKey,
  decodeEventKey,
  packageVersionPrefix,
  settingsObjectKey,
} from '../core/bucket-layout.js';
import type { CertificateRole } from '../core/bucket-layout.js';
import { packageNameOfFolder, packageFolderOfName } from '../core/packages.js';
import { sha256 } from '../core/canonical-hash.js';
import { configContentType } from '../core/config-hash.js';
import type { RejectedKey } from '../core/rejected-keys.js';
import { parseSettings, SettingsFileError } from '../core/settings-file.js';
import type { Telemetry } from '../observability/telemetry.js';
import type { CertificateRecord, FleetStore, IngestOrder } from '../ports/fleet-store.js';
import type { ObjectStore } from '../ports/object-store.js';
import type { RejectedKeyLog } from '../ports/rejected-keys.js';
import type { AuditLog } from '../ports/audit-log.js';
import { configsOf, ingestChange, noting, recordChanges, rejectedKeyChange } from './ingest-changes.js';
import type { IngestChange } from './ingest-changes.js';
import type { CertificateFileMeta } from '../core/fleet.js';
import type { ConfigHistoryStore } from '../ports/config-history-store.js';
import { recordConfigVersion } from './config-history.js';
import { checkedCertificate, sameFiles } from './certificate-folder.js';

/** The part of an S3 event notification record the ingest reads. */
export interface BucketEventRecord {
  eventName: string;
  s3: { object: { key: string; sequencer?: string | undefined } };
  /** Who made the change (an IAM principal id, e.g. `AWS:AROA...:alice`). */
  userIdentity?: { principalId?: string | undefined } | undefined;
}

export interface BucketIngestDeps {
  objects: ObjectStore;
  fleet: FleetStore;
  now: () => number;
  telemetry: Telemetry;
  /** Configuration files above this size are recorded with an error and never offered. */
  maxConfigFileBytes: number;
  /** Where keys under a managed prefix that break the rules are reported. */
  rejectedKeys?: RejectedKeyLog | undefined;
  /** Where each recorded change is audited (an AuditTrail: it never throws). */
  audit?: AuditLog | undefined;
  /** Who makes every change this ingest records (the local backend: `local`); else each event's principal. */
  principal?: string | undefined;
  /**
   * Where each configuration's versions are recorded (copies of the files go
   * to `state`, the server's state bucket), and who is named as having made
   * changes the ingest cannot attribute (`bucket`, `local`).
   */
  history?: { store: ConfigHistoryStore; state: ObjectStore; principal: string } | undefined;
}

/** `rejected`: under a managed prefix but against the rules: never read, and reported. */
export type IngestOutcome = 'recorded' | 'stale' | 'ignored' | 'rejected';

/** How often a folder is listed and written again when other writers keep coming in between. */
const FOLDER_ATTEMPTS = 10;

/**
 * Keeps DynamoDB's fleet metadata in step with the bucket. Each event makes
 * the ingest read the object's current state (so the outcome does not depend
 * on the order events arrive in) and record it, conditional on the event's
 * sequencer (so an older event cannot overwrite what a newer one recorded);
 * folders (package versions, certificates) are conditional on their record's
 * revision instead (see recordFolder). Handling the same event twice records
 * the same thing twice: idempotent.
 */
export class BucketIngest {
  constructor(private readonly deps: BucketIngestDeps) {}

  async handleEvent(records: readonly BucketEventRecord[]): Promise<IngestOutcome[]> {
    const outcomes: IngestOutcome[] = [];
    const rejected: RejectedKey[] = [];
    const configs = new Set<string>();
    for (const record of records) {
      if (!/^Object(Created|Removed):/.test(record.eventName)) {
        outcomes.push('ignored');
        continue;
      }
      // A removal of a rejected key is nothing to report: it was never recorded.
      const report = record.eventName.startsWith('ObjectCreated:') ? rejected : [];
      const reported = report.length;
      const changes: IngestChange[] = [];
      const key = decodeEventKey(record.s3.object.key);
      if (key === undefined) {
        report.push({ key: record.s3.object.key, reason: 'the key is not valid UTF-8 text', at: this.deps.now() });
        outcomes.push('rejected');
      } else {
        outcomes.push(await this.ingestKey(key, { sequencer: record.s3.object.sequencer }, report, changes));
      }
      changes.push(...report.slice(reported).map((r) => rejectedKeyChange(r.key, r.reason)));
      await recordChanges(this.deps.audit, changes, this.deps.principal ?? record.userIdentity?.principalId, this.deps.now());
      for (const name of configsOf(changes)) configs.add(name);
    }
    await this.report(rejected);
    if (outcomes.includes('recorded')) await this.deps.fleet.bumpGeneration();
    await this.recordHistory(configs);
    return outcomes;
  }

  /**
   * Records every object of the fleet's layout as the bucket holds it now,
   * and removes what the bucket no longer has. For when events may have been
   * missed (a local backend that was stopped, an external S3 endpoint).
   */
  async reconcile(): Promise<number> {
    const [configs, assignments, settings, packages, certificates, snapshot] = await Promise.all([
      this.deps.objects.listObjects(CONFIGS_PREFIX),
      this.deps.objects.listObjects(ASSIGNMENTS_PREFIX),
      this.deps.objects.listObjects(SETTINGS_PREFIX),
      this.deps.objects.listObjects(PACKAGES_PREFIX),
      this.deps.objects.listObjects(CERTIFICATES_PREFIX),
      this.deps.fleet.load(),
    ]);
    // Single objects (configuration files, assignments, settings): re-read those whose ETag differs from the recorded one.
    const singles = [...configs, ...assignments, ...settings];
    const present = new Set(singles.map((o) => o.key));
    const recordedEtags = new Map<string, string | undefined>([
      ...snapshot.configFiles.map((f) => [f.objectKey, f.etag] as const),
      ...snapshot.assignments.map((a) => [assignmentObjectKey(a.name), a.etag] as const),
      ...snapshot.settings.map((d) => [settingsObjectKey(d.name), d.etag] as const),
    ]);
    const rejected: RejectedKey[] = [];
    const changes: IngestChange[] = [];
    for (const object of singles) {
      const known = recordedEtags.get(object.key);
      if (known !== undefined && known === object.etag) continue;
      await this.ingestKey(object.key, {}, rejected, changes);
    }
    const now = this.deps.now();
    for (const file of snapshot.configFiles) {
      if (!present.has(file.objectKey) && (await this.deps.fleet.removeConfigFile(file.configName, file.fileName, {}, now))) changes.push(ingestChange('config-file', 'remove', file.objectKey));
    }
    for (const a of snapshot.assignments) {
      const key = assignmentObjectKey(a.name);
      if (!present.has(key) && (await this.deps.fleet.removeAssignment(a.name, {}, now))) changes.push(ingestChange('assignment', 'remove', key));
    }
    for (const d of snapshot.settings) {
      const key = settingsObjectKey(d.name);
      if (!present.has(key) && (await this.deps.fleet.removeSettings(d.name, {}, now))) changes.push(ingestChange('settings', 'remove', key));
    }
    // Package versions: re-read folders whose listing differs from what was recorded.
    const recordedPackages = new Map(snapshot.packageVersions.map((p) => [packageVersionPrefix(packageFolderOfName(p.name), p.version), p]));
    const folders = new Map<string, { folder: string; version: string }>();
    for (const object of packages) {
      const target = this.classify(object.key, rejected);
      if (target.kind === 'package-file') folders.set(packageVersionPrefix(target.folder, target.version), target);
    }
    for (const [prefix, { folder, version }] of folders) {
      const known = recordedPackages.get(prefix);
      const listed = packages.filter((o) => o.key.startsWith(prefix));
      const unchanged = known && known.error === undefined && listed.some((o) => o.key === known.objectKey) && listed.length === (known.signature === undefined ? 1 : 2);
      if (unchanged) continue;
      // A folder that stays broken is read again each time; it is audited once, when its error is new.
      const found: IngestChange[] = [];
      await this.ingestPackageVersion(folder, version, now, found);
      changes.push(...found.filter((c) => known?.error === undefined || c.message !== known.error));
    }
    for (const [prefix, p] of recordedPackages) {
      if (!folders.has(prefix)) await this.ingestPackageVersion(packageFolderOfName(p.name), p.version, now, changes);
    }
    // Certificate folders: their files are small, and the record keeps no ETags; each folder is
    // re-read and written only when a file's content or version differs from what was recorded.
    const recordedCertificates = new Map(snapshot.certificates.map((c) => [c.name, c]));
    const certificateNames = new Set(
      certificates.flatMap((o) => {
        const target = this.classify(o.key, rejected);
        return target.kind === 'certificate-file' ? [target.name] : [];
      }),
    );
    for (const name of certificateNames) await this.ingestCertificateFolder(name, now, changes, recordedCertificates.get(name));
    for (const c of snapshot.certificates) {
      if (!certificateNames.has(c.name)) await this.ingestCertificateFolder(c.name, now, changes);
    }
    await this.report(rejected);
    if (changes.length > 0) await this.deps.fleet.bumpGeneration();
    await this.recordHistory(configsOf(changes));
    await recordChanges(this.deps.audit, changes, this.deps.principal, this.deps.now());
    return changes.length;
  }

  /**
   * Records the configurations' versions once every change of the batch is
   * in (so a batch that changes several files records one version), after
   * the fleet state moved on: a failure here leaves agents unaffected, and
   * the retried event records the version.
   */
  private async recordHistory(configNames: ReadonlySet<string>): Promise<void> {
    const history = this.deps.history;
    if (!history) return;
    for (const name of configNames) {
      const outcome = await recordConfigVersion({ objects: this.deps.objects, state: history.state, fleet: this.deps.fleet, history: history.store, now: this.deps.now }, name, history.principal);
      this.deps.telemetry.logger.debug('configuration history', { config: name, outcome });
    }
  }

  /** Classifies a key, noting it in `rejected` when it breaks the rules. */
  private classify(key: string, rejected: RejectedKey[]) {
    const target = classifyObjectKey(key);
    if (target.kind === 'rejected') rejected.push({ key, reason: target.reason, at: this.deps.now() });
    return target;
  }

  /** Reports rejected keys; logs them only when they are news (a reconcile sees the same ones again). */
  private async report(rejected: readonly RejectedKey[]): Promise<void> {
    if (rejected.length === 0) return;
    const news = this.deps.rejectedKeys ? await this.deps.rejectedKeys.record(rejected) : true;
    if (!news) return;
    this.deps.telemetry.logger.warn('bucket objects rejected', { rejected: rejected.map(({ key, reason }) => ({ key, reason })) });
    this.deps.telemetry.count('Rejected.object-key', rejected.length);
  }

  /**
   * A package version is a folder (the file and maybe its `.sig`): any change
   * in it re-reads the whole folder and records what it holds now, hashing the
   * file as a stream (package files can be large; polls never read them).
   */
  private ingestPackageVersion(folder: string, version: string, now: number, changes: IngestChange[]): Promise<IngestOutcome> {
    const name = packageNameOfFolder(folder);
    const prefix = packageVersionPrefix(folder, version);
    return this.recordFolder(
      prefix,
      () => this.deps.fleet.packageRevision(name, version),
      async (revision) => {
        const listing = await this.deps.objects.listObjects(prefix);
        const files = listing.filter((o) => !o.key.endsWith(SIGNATURE_SUFFIX));
        if (files.length === 0) return noting(this.deps.fleet.removePackageVersion(name, version, now, revision), changes, ingestChange('package', 'remove', prefix));
        const base = { name, version, scannedAt: now };
        if (files.length > 1) {
          const error = `${prefix} holds ${files.length} files; a package version is one file (and its ${SIGNATURE_SUFFIX})`;
          this.deps.telemetry.logger.warn('package version rejected', { prefix, error });
          return noting(this.deps.fleet.putPackageVersion({ ...base, objectKey: files[0]!.key, sha256: '', size: 0, error }, revision), changes, ingestChange('package', 'put', prefix, error));
        }
        const file = files[0]!;
        const digest = await this.deps.objects.digestObject(file.key);
        if (!digest) return false; // removed since the listing: list again
        const signatureKey = `${file.key}${SIGNATURE_SUFFIX}`;
        const signed = listing.some((o) => o.key === signatureKey);
        const signature = signed ? await this.deps.objects.getObject(signatureKey) : undefined;
        if (signed && !signature) return false; // removed since the listing: list again
        const write = this.deps.fleet.putPackageVersion(
          {
            ...base,
            objectKey: file.key,
            sha256: digest.sha256,
            size: digest.size,
            ...(signature ? { signature: Buffer.from(signature.bytes).toString('base64') } : {}),
          },
          revision,
        );
        return noting(write, changes, ingestChange('package', 'put', prefix));
      },
    );
  }

  /**
   * A certificate is a folder (cert.pem, and optionally key.pem and ca.pem):
   * any change in it re-reads the whole folder, records each file's hash and
   * version, and checks the material together (the key must match the
   * certificate), so that what is recorded is what the folder holds as one.
   * With `recorded` (reconcile), nothing is written when every file is as
   * recorded.
   */
  private ingestCertificateFolder(name: string, now: number, changes: IngestChange[], recorded?: CertificateRecord): Promise<IngestOutcome> {
    const folder = certificateFolder(name);
    return this.recordFolder(
      folder,
      () => this.deps.fleet.certificateRevision(name),
      async (revision) => {
        const listed = new Set((await this.deps.objects.listObjects(folder)).map((o) => o.key));
        const roles = (Object.keys(CERTIFICATE_FILES) as CertificateRole[]).filter((role) => listed.has(certificateObjectKey(name, role)));
        if (roles.length === 0) return noting(this.deps.fleet.removeCertificate(name, now, revision), changes, ingestChange('certificate', 'remove', folder));
        const files: Partial<Record<CertificateRole, CertificateFileMeta>> = {};
        const pem: Partial<Record<CertificateRole, string>> = {};
        for (const role of roles) {
          const objectKey = certificateObjectKey(name, role);
          const object = await this.deps.objects.getObject(objectKey);
          if (!object) return false; // removed since the listing: list again
          files[role] = { objectKey, sha256: sha256(object.bytes).toString('hex'), ...(object.versionId ? { versionId: object.versionId } : {}) };
          pem[role] = new TextDecoder().decode(object.bytes);
        }
        if (recorded && sameFiles(recorded, files)) return undefined;
        const checked = await checkedCertificate(name, folder, files, pem, now, this.deps.telemetry);
        return noting(this.deps.fleet.putCertificate(checked, revision), changes, ingestChange('certificate', 'put', folder, checked.error));
      },
    );
  }

  /**
   * Records a folder as it is now. The record's revision is read before the
   * folder is listed, and the write is conditional on it: if another writer
   * recorded in between, the folder is listed and written again. So the last
   * write always comes from a listing made after every earlier write, and a
   * listing made before a change (a stale event, a slow instance, a skewed
   * clock) can never have the last word. `attempt` returns false to start
   * over, undefined when there is nothing to write.
   */
  private async recordFolder(folder: string, revisionOf: () => Promise<number>, attempt: (revision: number) => Promise<boolean | undefined>): Promise<IngestOutcome> {
    for (let i = 0; i < FOLDER_ATTEMPTS; i++) {
      const written = await attempt(await revisionOf());
      if (written === undefined) return 'stale';
      if (written) return 'recorded';
    }
    // Rare (the folder kept changing under us); the event is retried as a whole.
    throw new Error(`${folder} changed during each of ${FOLDER_ATTEMPTS} attempts to record it`);
  }

  private async ingestKey(key: string, order: IngestOrder, rejected: RejectedKey[], changes: IngestChange[]): Promise<IngestOutcome> {
    const target = this.classify(key, rejected);
    if (target.kind === 'rejected') return 'rejected';
    if (target.kind === 'ignored') {
      this.deps.telemetry.logger.debug('bucket object ignored', { key, reason: target.reason });
      return 'ignored';
    }
    const now = this.deps.now();
    if (target.kind === 'package-file') return this.ingestPackageVersion(target.folder, target.version, now, changes);
    if (target.kind === 'certificate-file') return this.ingestCertificateFolder(target.name, now, changes);
    const object = await this.deps.objects.getObject(key);
    let recorded: boolean;
    const kind = target.kind === 'config-file' ? 'config-file' : target.kind === 'assignment' ? 'assignment' : 'settings';
    let change = ingestChange(kind, object ? 'put' : 'remove', key);

    if (target.kind === 'config-file') {
      if (!object) {
        recorded = await this.deps.fleet.removeConfigFile(target.configName, target.fileName, order, now);
      } else {
        const tooLarge = object.bytes.byteLength > this.deps.maxConfigFileBytes;
        const error = tooLarge ? `${object.bytes.byteLength} bytes is more than the ${this.deps.maxConfigFileBytes} a configuration file may have` : undefined;
        recorded = await this.deps.fleet.putConfigFile(
          {
            configName: target.configName,
            fileName: target.fileName,
            objectKey: key,
            sha256: sha256(object.bytes).toString('hex'),
            size: object.bytes.byteLength,
            contentType: configContentType(target.fileName, object.contentType),
            versionId: object.versionId,
            etag: object.etag,
            ...(error !== undefined ? { error } : {}),
            updatedAt: now,
          },
          order,
        );
        if (tooLarge) this.deps.telemetry.logger.warn('configuration file too large', { key, size: object.bytes.byteLength });
        change = ingestChange(kind, 'put', key, error);
      }
    } else if (target.kind === 'assignment') {
      if (!object) {
        recorded = await this.deps.fleet.removeAssignment(target.name, order, now);
      } else {
        try {
          const assignment = parseAssignment(target.name, new TextDecoder().decode(object.bytes));
          recorded = await this.deps.fleet.putAssignment(target.name, assignment, order, now, object.etag);
        } catch (error) {
          if (!(error instanceof AssignmentFileError)) throw error;
          this.deps.telemetry.logger.warn('assignment file rejected', { key, error: error.message });
          this.deps.telemetry.count('Rejected.assignment-file');
          recorded = await this.deps.fleet.rejectAssignment(target.name, `${key}: ${error.message}`, order, now, object.etag);
          change = ingestChange(kind, 'put', key, error.message);
        }
      }
    } else if (!object) {
      recorded = await this.deps.fleet.removeSettings(target.name, order, now);
    } else {
      try {
        const settings = parseSettings(new TextDecoder().decode(object.bytes));
        recorded = await this.deps.fleet.putSettings(target.name, settings, order, now, object.etag);
      } catch (error) {
        if (!(error instanceof SettingsFileError)) throw error;
        this.deps.telemetry.logger.warn('settings file rejected', { key, error: error.message });
        this.deps.telemetry.count('Rejected.settings-file');
        recorded = await this.deps.fleet.rejectSettings(target.name, `${key}: ${error.message}`, order, now, object.etag);
        change = ingestChange(kind, 'put', key, error.message);
      }
    }
    if (recorded) changes.push(change);
    else this.deps.telemetry.logger.debug('bucket event older than the recorded state', { key, sequencer: order.sequencer });
    return recorded ? 'recorded' : 'stale';
  }
}
