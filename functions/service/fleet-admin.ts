import { assignmentObjectKey, configObjectKey, CONFIGS_PREFIX } from '../core/bucket-layout.js';
import { validateAssignment } from '../core/assignment-file.js';
import type { AssignmentDocument } from '../core/assignment-file.js';
import { sha256 } from '../core/canonical-hash.js';
import { configContentType, configHash } from '../core/config-hash.js';
import type { ConfigAssignment } from '../core/fleet.js';
import { configRolloutState } from '../core/remote-config.js';
import type { ConfigRolloutState, RemoteConfigPolicy } from '../core/remote-config.js';
import { formatSelector } from '../core/selector.js';
import { resolveConfigTarget } from '../core/targeting.js';
import type { AgentStore } from '../ports/agent-store.js';
import type { FleetStore } from '../ports/fleet-store.js';
import type { ObjectStore } from '../ports/object-store.js';

export interface ConfigFileView {
  name: string;
  size: number;
  contentType: string;
  sha256: string;
  error?: string;
}

export interface ConfigView {
  name: string;
  /** Hex of the config hash agents receive; null while the configuration cannot be offered. */
  hash: string | null;
  files: ConfigFileView[];
  errors: string[];
}

export interface AssignmentView {
  name: string;
  config: string | null;
  selector: string | null;
  instanceUid: string | null;
  priority: number | null;
  /** Whether the assignment takes part in targeting (it validated at least once). */
  inForce: boolean;
  /** Why the latest upload of the assignment file was rejected (its previous content stays in force). */
  error: string | null;
  errorAt: string | null;
}

export type RolloutBucket = 'applied' | 'applying' | 'failed' | 'pending';

export interface RolloutAgentView {
  instanceUid: string;
  state: ConfigRolloutState;
  via: string;
  reportedHash: string;
  errorMessage: string;
}

export interface RolloutView {
  config: string;
  hash: string | null;
  matched: number;
  applied: number;
  applying: number;
  failed: number;
  pending: number;
  /** Every agent that is not (yet) applied, with what it reported. */
  agents: RolloutAgentView[];
}

export interface UploadedFile {
  name: string;
  body: Uint8Array;
  contentType?: string | undefined;
}

export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
}

const BUCKET_OF_STATE: Record<ConfigRolloutState, RolloutBucket | undefined> = {
  none: undefined,
  pending: 'pending',
  offered: 'applying',
  applying: 'applying',
  applied: 'applied',
  failed: 'failed',
  'rolled-back': 'failed',
  'not-taken': 'failed',
};

/**
 * The write side of the fleet API. The bucket is the source of truth: the API
 * writes and deletes objects exactly as `aws s3 cp` or `aws s3 sync` would, and
 * the bucket ingest records them, so that both ways of working meet in one
 * place. Reads come from the recorded metadata.
 */
export class FleetAdmin {
  constructor(
    private readonly deps: {
      objects: ObjectStore;
      fleet: FleetStore;
      agents: AgentStore;
      now: () => number;
      remoteConfig: RemoteConfigPolicy;
    },
  ) {}

  async listConfigs(): Promise<ConfigView[]> {
    const snapshot = await this.deps.fleet.load();
    const names = [...new Set(snapshot.configFiles.map((f) => f.configName))].sort();
    return names.map((name) => {
      const files = snapshot.configFiles.filter((f) => f.configName === name).sort((a, b) => (a.fileName < b.fileName ? -1 : 1));
      const meta = snapshot.state.configs.get(name);
      return {
        name,
        hash: meta ? hex(meta.hash) : null,
        files: files.map((f) => ({
          name: f.fileName,
          size: f.size,
          contentType: f.contentType,
          sha256: f.sha256,
          ...(f.error !== undefined ? { error: f.error } : {}),
        })),
        errors: files.flatMap((f) => (f.error !== undefined ? [`${f.fileName}: ${f.error}`] : [])),
      };
    });
  }

  async getConfig(name: string): Promise<ConfigView> {
    const config = (await this.listConfigs()).find((c) => c.name === name);
    if (!config) throw new NotFoundError(`no configuration named ${name}`);
    return config;
  }

  /**
   * Replaces a configuration's files in the bucket (files not named are
   * removed). Returns the config hash agents will receive once the bucket
   * ingest has recorded the upload.
   */
  async putConfig(name: string, files: readonly UploadedFile[]): Promise<{ name: string; hash: string }> {
    const existing = await this.deps.objects.listObjects(`${CONFIGS_PREFIX}${name}/`);
    for (const file of files) await this.deps.objects.putObject(configObjectKey(name, file.name), file.body, file.contentType);
    const keep = new Set(files.map((f) => configObjectKey(name, f.name)));
    for (const object of existing) if (!keep.has(object.key)) await this.deps.objects.deleteObject(object.key);
    const hash = configHash(files.map((f) => ({
      fileName: f.name,
      contentType: configContentType(f.name, f.contentType),
      sha256: sha256(f.body).toString('hex'),
    })));
    return { name, hash: hex(hash) };
  }

  async deleteConfig(name: string): Promise<void> {
    const existing = await this.deps.objects.listObjects(`${CONFIGS_PREFIX}${name}/`);
    if (existing.length === 0) throw new NotFoundError(`no configuration named ${name}`);
    for (const object of existing) await this.deps.objects.deleteObject(object.key);
  }

  async listAssignments(): Promise<AssignmentView[]> {
    const snapshot = await this.deps.fleet.load();
    return snapshot.assignments
      .map((a) => ({
        name: a.name,
        config: a.assignment?.config ?? null,
        selector: a.assignment?.selector ? formatSelector(a.assignment.selector) : null,
        instanceUid: a.assignment?.instanceUid ?? null,
        priority: a.assignment?.priority ?? null,
        inForce: a.assignment !== undefined,
        error: a.error ?? null,
        errorAt: a.errorAt !== undefined ? new Date(a.errorAt).toISOString() : null,
      }))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  async getAssignment(name: string): Promise<AssignmentView> {
    const assignment = (await this.listAssignments()).find((a) => a.name === name);
    if (!assignment) throw new NotFoundError(`no assignment named ${name}`);
    return assignment;
  }

  /** Validates and writes `assignments/<name>.json`; throws AssignmentFileError when invalid (nothing is written). */
  async putAssignment(name: string, document: AssignmentDocument): Promise<Omit<ConfigAssignment, 'error'>> {
    const assignment = validateAssignment(name, document);
    const file = {
      config: assignment.config,
      ...(assignment.selector ? { selector: formatSelector(assignment.selector) } : {}),
      ...(assignment.instanceUid ? { instanceUid: assignment.instanceUid } : {}),
      priority: assignment.priority,
    };
    await this.deps.objects.putObject(assignmentObjectKey(name), new TextEncoder().encode(`${JSON.stringify(file, null, 2)}\n`), 'application/json');
    return assignment;
  }

  async deleteAssignment(name: string): Promise<void> {
    const key = assignmentObjectKey(name);
    if ((await this.deps.objects.listObjects(key)).every((o) => o.key !== key)) {
      throw new NotFoundError(`no assignment named ${name}`);
    }
    await this.deps.objects.deleteObject(key);
  }

  /** Where the rollout of one configuration stands, over every agent it targets. */
  async rollout(configName: string): Promise<RolloutView> {
    const { state: fleet } = await this.deps.fleet.load();
    const config = fleet.configs.get(configName);
    const view: RolloutView = { config: configName, hash: config ? hex(config.hash) : null, matched: 0, applied: 0, applying: 0, failed: 0, pending: 0, agents: [] };
    let cursor: string | undefined;
    do {
      const page = await this.deps.agents.list({ limit: 500, cursor });
      for (const record of page.records) {
        const target = resolveConfigTarget(record, fleet);
        if (target?.configName !== configName) continue;
        const state = configRolloutState(record.capabilities, target, record.remoteConfigStatus, record.configOffer, this.deps.remoteConfig, this.deps.now());
        const bucket = BUCKET_OF_STATE[state];
        if (!bucket) continue;
        view.matched++;
        view[bucket]++;
        if (bucket !== 'applied') {
          view.agents.push({
            instanceUid: record.instanceUid,
            state,
            via: target.via,
            reportedHash: hex(record.remoteConfigStatus?.hash ?? ''),
            errorMessage: record.configOffer?.rollbackMessage && state === 'rolled-back'
              ? record.configOffer.rollbackMessage
              : record.remoteConfigStatus?.errorMessage ?? '',
          });
        }
      }
      cursor = page.cursor;
    } while (cursor);
    return view;
  }
}

function hex(base64: string): string {
  return Buffer.from(base64, 'base64').toString('hex');
}
