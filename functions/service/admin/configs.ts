import { classifyObjectKey, configObjectKey, CONFIGS_PREFIX } from '../../core/bucket-layout.js';
import { sha256 } from '../../core/canonical-hash.js';
import { configContentType, configHash } from '../../core/config-hash.js';
import { desiredState } from '../../core/desired-state.js';
import { assertNoViolation, nameViolation, pathViolation } from '../../core/names.js';
import { configRolloutState } from '../../core/remote-config.js';
import type { ConfigRolloutState } from '../../core/remote-config.js';
import { everyAgent } from '../../ports/agent-store.js';
import type { ConfigFileRecord, FleetSnapshot } from '../../ports/fleet-store.js';
import type { AdminDeps } from './deps.js';
import { deleteAllUnder, hex, InvalidInputError, NotFoundError } from './deps.js';

export interface ConfigFileView {
  name: string;
  size: number;
  contentType: string;
  sha256: string;
  error?: string;
  /** With `content`: the file's text, or null when it is not shown (`contentOmitted` says why). */
  content?: string | null;
  contentOmitted?: ContentOmitted;
}

/**
 * Why a file's text is not shown: `binary` (not UTF-8 text), `too-large`
 * (over CONFIG_CONTENT_MAX_BYTES), `changed` (the object changed or vanished
 * since the ingest recorded it; the new record is on its way).
 */
export type ContentOmitted = 'binary' | 'too-large' | 'changed';

/** Largest file whose text a configuration view carries; `size` describes a larger one. */
export const CONFIG_CONTENT_MAX_BYTES = 256 * 1024;

export interface ConfigView {
  name: string;
  /** Hex of the config hash agents receive; null while the configuration cannot be offered. */
  hash: string | null;
  files: ConfigFileView[];
  errors: string[];
}

export interface UploadedFile {
  name: string;
  body: Uint8Array;
  contentType?: string | undefined;
}

export type RolloutBucket = 'applied' | 'applying' | 'failed' | 'pending' | 'notAccepted';

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
  /** Targeted agents that do not accept remote configuration; not part of `matched`, since they never apply it. */
  notAccepted: number;
  /** Every agent that is not (yet) applied, with what it reported. */
  agents: RolloutAgentView[];
}

const BUCKET_OF_STATE: Record<ConfigRolloutState, RolloutBucket | undefined> = {
  none: undefined,
  'not-accepted': 'notAccepted',
  pending: 'pending',
  offered: 'applying',
  applying: 'applying',
  applied: 'applied',
  failed: 'failed',
  'rolled-back': 'failed',
  'not-taken': 'failed',
};

export async function listConfigs(deps: AdminDeps): Promise<ConfigView[]> {
  return configViews(await deps.fleet.load());
}

function configViews(snapshot: FleetSnapshot): ConfigView[] {
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

export async function getConfig(deps: AdminDeps, name: string, options: { content?: boolean } = {}): Promise<ConfigView> {
  const snapshot = await deps.fleet.load();
  const config = configViews(snapshot).find((c) => c.name === name);
  if (!config) throw new NotFoundError(`no configuration named ${name}`);
  if (!options.content) return config;
  const records = new Map(snapshot.configFiles.filter((f) => f.configName === name).map((f) => [f.fileName, f]));
  const files = await Promise.all(config.files.map(async (file) => ({ ...file, ...(await fileContent(deps, records.get(file.name))) })));
  return { ...config, files };
}

/** The recorded version of a configuration file as text, when it is text and small enough to show. */
async function fileContent(deps: AdminDeps, record: ConfigFileRecord | undefined): Promise<Pick<ConfigFileView, 'content' | 'contentOmitted'>> {
  if (!record) return { content: null, contentOmitted: 'changed' };
  if (record.size > CONFIG_CONTENT_MAX_BYTES) return { content: null, contentOmitted: 'too-large' };
  const object = await deps.objects.getObject(record.objectKey, record.versionId);
  if (!object || sha256(object.bytes).toString('hex') !== record.sha256) return { content: null, contentOmitted: 'changed' };
  const text = utf8Text(object.bytes);
  return text === undefined ? { content: null, contentOmitted: 'binary' } : { content: text };
}

/** The bytes as text, or undefined when they are not UTF-8 or hold a NUL (no text file does). */
function utf8Text(bytes: Uint8Array): string | undefined {
  if (bytes.includes(0)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * Replaces a configuration's files in the bucket (files not named are
 * removed). Returns the config hash agents will receive once the bucket
 * ingest has recorded the upload.
 */
export async function putConfig(deps: AdminDeps, name: string, files: readonly UploadedFile[]): Promise<{ name: string; hash: string }> {
  assertNoViolation(nameViolation('configuration', name));
  for (const file of files) {
    assertNoViolation(pathViolation('file name', file.name, configObjectKey(name, '')));
    // The same rules as the ingest's, so that what is accepted here is recorded there.
    const target = classifyObjectKey(configObjectKey(name, file.name));
    if (target.kind !== 'config-file' || target.fileName !== file.name) {
      throw new InvalidInputError(`"${file.name}" cannot be a configuration file name`);
    }
    const limit = deps.maxConfigFileBytes;
    if (limit !== undefined && file.body.byteLength > limit) {
      throw new InvalidInputError(`"${file.name}" has ${file.body.byteLength} bytes, more than the ${limit} a configuration file may have (OPAMP_MAX_CONFIG_FILE_BYTES)`);
    }
  }
  const existing = await deps.objects.listObjects(`${CONFIGS_PREFIX}${name}/`);
  for (const file of files) await deps.objects.putObject(configObjectKey(name, file.name), file.body, file.contentType);
  const keep = new Set(files.map((f) => configObjectKey(name, f.name)));
  for (const object of existing) if (!keep.has(object.key)) await deps.objects.deleteObject(object.key);
  const hash = configHash(
    files.map((f) => ({
      fileName: f.name,
      contentType: configContentType(f.name, f.contentType),
      sha256: sha256(f.body).toString('hex'),
    })),
  );
  return { name, hash: hex(hash) };
}

export async function deleteConfig(deps: AdminDeps, name: string): Promise<void> {
  await deleteAllUnder(deps, `${CONFIGS_PREFIX}${name}/`, `no configuration named ${name}`);
}

/** Where the rollout of one configuration stands, over every agent it targets. */
export async function configRollout(deps: AdminDeps, configName: string): Promise<RolloutView> {
  const { state: fleet } = await deps.fleet.load();
  const config = fleet.configs.get(configName);
  // A name that is neither stored nor named by any assignment is a typo, not an empty rollout.
  if (!config && !fleet.assignments.some((a) => a.config === configName)) throw new NotFoundError(`no configuration named ${configName}`);
  const view: RolloutView = { config: configName, hash: config ? hex(config.hash) : null, matched: 0, applied: 0, applying: 0, failed: 0, pending: 0, notAccepted: 0, agents: [] };
  for await (const record of everyAgent(deps.agents)) {
    const target = desiredState(record, fleet).config;
    if (target?.configName !== configName) continue;
    const state = configRolloutState(record.capabilities, target, record.remoteConfigStatus, record.configOffer, deps.remoteConfig, deps.now());
    const bucket = BUCKET_OF_STATE[state];
    if (!bucket) continue;
    if (bucket !== 'notAccepted') view.matched++;
    view[bucket]++;
    if (bucket !== 'applied') {
      view.agents.push({
        instanceUid: record.instanceUid,
        state,
        via: target.via,
        reportedHash: hex(record.remoteConfigStatus?.hash ?? ''),
        errorMessage: record.configOffer?.rollbackMessage && state === 'rolled-back' ? record.configOffer.rollbackMessage : (record.remoteConfigStatus?.errorMessage ?? ''),
      });
    }
  }
  return view;
}
