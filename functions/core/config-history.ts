import { CONFIG_HISTORY_PREFIX } from './bucket-layout.js';
import { compareStrings } from './compare.js';
import { configHash } from './config-hash.js';
import type { ConfigFileMeta, ConfigMeta } from './fleet.js';

/** One file of a recorded configuration version. */
export interface ConfigVersionFile {
  fileName: string;
  /** SHA-256 of the content, hex; the history copy is `historyBlobKey(sha256)` in the state bucket. */
  sha256: string;
  size: number;
  contentType: string;
}

/**
 * A configuration as it was once in force: its config hash and files. Every
 * file's bytes are kept in the state bucket by content hash, so any recorded
 * version can be served again whatever the operator's bucket holds now.
 */
export interface ConfigVersion {
  configName: string;
  /** base64 of the config hash, as ConfigMeta.hash. */
  hash: string;
  /** When the version was recorded (ms). */
  recordedAt: number;
  /** Who made the change, when known (`bucket`, `local`, an IAM principal). */
  principal?: string | undefined;
  /** Sorted by file name. */
  files: readonly ConfigVersionFile[];
}

export interface VersionChanges {
  added: string[];
  removed: string[];
  changed: string[];
}

/** Where a file's bytes are kept in the state bucket: one copy per content, shared by every version and configuration. */
export function historyBlobKey(sha256hex: string): string {
  if (!/^[0-9a-f]{64}$/.test(sha256hex)) throw new Error(`"${sha256hex}" is not a hex SHA-256`);
  return `${CONFIG_HISTORY_PREFIX}${sha256hex}`;
}

/** A version of `configName` with these files (sorted, hash computed as the fleet state does). */
export function configVersionOf(configName: string, files: readonly Pick<ConfigFileMeta, 'fileName' | 'sha256' | 'size' | 'contentType'>[], recordedAt: number, principal?: string): ConfigVersion {
  const sorted = files.map(({ fileName, sha256, size, contentType }) => ({ fileName, sha256, size, contentType })).sort((a, b) => compareStrings(a.fileName, b.fileName));
  return { configName, hash: configHash(sorted), recordedAt, ...(principal !== undefined ? { principal } : {}), files: sorted };
}

/** A ConfigMeta that serves the version from its history copies (in the state bucket). */
export function configMetaOfVersion(version: ConfigVersion): ConfigMeta {
  return {
    name: version.configName,
    hash: version.hash,
    files: version.files.map((f) => ({
      fileName: f.fileName,
      objectKey: historyBlobKey(f.sha256),
      sha256: f.sha256,
      size: f.size,
      contentType: f.contentType,
      source: 'history' as const,
    })),
  };
}

/** Which file names `after` adds, removes and changes (content or content type) relative to `before`; each sorted. */
export function versionChanges(before: Pick<ConfigVersion, 'files'> | undefined, after: Pick<ConfigVersion, 'files'>): VersionChanges {
  const old = new Map((before?.files ?? []).map((f) => [f.fileName, f]));
  const now = new Map(after.files.map((f) => [f.fileName, f]));
  const added = [...now.keys()].filter((name) => !old.has(name));
  const removed = [...old.keys()].filter((name) => !now.has(name));
  const changed = [...now.values()].filter((f) => {
    const was = old.get(f.fileName);
    return was !== undefined && (was.sha256 !== f.sha256 || was.contentType !== f.contentType);
  });
  return {
    added: added.sort(compareStrings),
    removed: removed.sort(compareStrings),
    changed: changed.map((f) => f.fileName).sort(compareStrings),
  };
}

/**
 * A config hash as it may appear in a URL: base64url (the form the API shows),
 * standard base64 (with or without padding) or hex. Returns the base64 form
 * ConfigMeta uses, or undefined when it is not 32 bytes in any of these.
 */
export function parseConfigHash(text: string): string | undefined {
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex').toString('base64');
  if (!/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) return undefined;
  const bytes = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return bytes.length === 32 ? bytes.toString('base64') : undefined;
}

/** The base64url form of a base64 config hash, as the API puts it in URLs. */
export function hashUrl(base64: string): string {
  return Buffer.from(base64, 'base64').toString('base64url');
}
