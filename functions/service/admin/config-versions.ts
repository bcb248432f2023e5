import { hashUrl, versionChanges } from '../../core/config-history.js';
import type { ConfigVersion, VersionChanges } from '../../core/config-history.js';
import { compareStrings } from '../../core/compare.js';
import { RejectedRequestError } from '../../core/errors.js';
import { unifiedDiff } from '../../core/text-diff.js';
import { versionFiles } from '../config-history.js';
import { putConfig } from './configs.js';
import type { AdminDeps } from './deps.js';
import { hex } from './deps.js';

export interface VersionFileView {
  name: string;
  size: number;
  contentType: string;
  sha256: string;
}

export interface VersionSummaryView {
  /** base64 of the config hash, as agents report it. */
  hash: string;
  /** The same hash in base64url: how URLs name the version. */
  hashUrl: string;
  /** The same hash in hex, as `GET /configs` shows it. */
  hashHex: string;
  recordedAt: string;
  principal: string | null;
  files: VersionFileView[];
  /** Against the version recorded before this one (every file added for the first). */
  changes: VersionChanges;
}

export interface VersionListView {
  name: string;
  versions: VersionSummaryView[];
  nextCursor?: string;
}

export interface VersionDetailView extends Omit<VersionSummaryView, 'files' | 'changes'> {
  name: string;
  /** Each file with its text; binary files (not UTF-8, or holding NUL) say so and carry no content. */
  files: Array<VersionFileView & ({ content: string } | { binary: true })>;
  /** What the diff is against: the version recorded before, `?against=`, or null for the first version. */
  against: { hash: string; hashUrl: string } | null;
  changes: VersionChanges;
  /** A unified diff of every changed file. */
  diff: string;
}

/** The configuration or version is not recorded. */
export class VersionNotFoundError extends RejectedRequestError {
  override readonly name = 'VersionNotFoundError';

  constructor(message: string) {
    super('not-found', 'config-version-not-found', message);
  }
}

/** How far back a version's predecessor is looked for (pages of PAGE versions). */
const PAGE = 100;
const MAX_PAGES = 20;

function historyOf(deps: AdminDeps) {
  if (!deps.history) throw new Error('configuration history is not wired');
  return deps.history;
}

export async function listVersions(deps: AdminDeps, name: string, options: { limit: number; cursor?: string | undefined }): Promise<VersionListView> {
  const { store } = historyOf(deps);
  const page = await store.list(name, { limit: options.limit, before: options.cursor });
  if (page.versions.length === 0 && options.cursor === undefined) throw new VersionNotFoundError(`configuration ${name} has no recorded versions`);
  const older = page.next ? (await store.list(name, { limit: 1, before: page.next })).versions[0] : undefined;
  const versions = page.versions.map((version, i) => summary(version, page.versions[i + 1] ?? older));
  return { name, versions, ...(page.next ? { nextCursor: page.next } : {}) };
}

export async function getVersion(deps: AdminDeps, name: string, hash: string, against?: string): Promise<VersionDetailView> {
  const { store, state } = historyOf(deps);
  const version = await store.get(name, hash);
  if (!version) throw new VersionNotFoundError(`configuration ${name} has no recorded version ${hashUrl(hash)}`);
  let base: ConfigVersion | undefined;
  if (against !== undefined) {
    base = await store.get(name, against);
    if (!base) throw new VersionNotFoundError(`configuration ${name} has no recorded version ${hashUrl(against)} to compare with`);
  } else {
    base = await predecessor(deps, version);
  }
  const [files, baseFiles] = await Promise.all([versionFiles(state, version), base ? versionFiles(state, base) : []]);
  const sides = (contents: ReadonlyArray<{ fileName: string; sha256: string; contentType: string; bytes: Uint8Array }>) =>
    new Map(contents.map(({ fileName, sha256, contentType, bytes }) => [fileName, { text: textOf(bytes), sha256, contentType }]));
  const after = sides(files);
  const before = sides(baseFiles);
  const changes = versionChanges(base, version);
  const diff = [...changes.removed, ...changes.added, ...changes.changed]
    .sort(compareStrings)
    .map((fileName) => fileDiff(fileName, before.get(fileName), after.get(fileName)))
    .join('');
  const { files: _summaryFiles, changes: _ignored, ...head } = summary(version, base);
  return {
    name,
    ...head,
    files: version.files.map((f) => {
      const text = after.get(f.fileName)?.text;
      return { ...fileView(f), ...(text === undefined ? { binary: true as const } : { content: text }) };
    }),
    against: base ? { hash: base.hash, hashUrl: hashUrl(base.hash) } : null,
    changes,
    diff,
  };
}

/** Writes the version's files back to configs/<name>/ from the history copies (removing the others), as an upload does. */
export async function restoreVersion(deps: AdminDeps, name: string, hash: string): Promise<{ name: string; hash: string }> {
  const { store, state } = historyOf(deps);
  const version = await store.get(name, hash);
  if (!version) throw new VersionNotFoundError(`configuration ${name} has no recorded version ${hashUrl(hash)}`);
  const files = await versionFiles(state, version);
  return putConfig(
    deps,
    name,
    files.map((f) => ({ name: f.fileName, body: f.bytes, contentType: f.contentType })),
  );
}

/** The version recorded just before the newest entry with this version's hash. */
async function predecessor(deps: AdminDeps, version: ConfigVersion): Promise<ConfigVersion | undefined> {
  const { store } = historyOf(deps);
  let before: string | undefined;
  let found = false;
  for (let i = 0; i < MAX_PAGES; i++) {
    const page = await store.list(version.configName, { limit: PAGE, before });
    for (const entry of page.versions) {
      if (found) return entry;
      found = entry.hash === version.hash;
    }
    if (!page.next) return undefined;
    before = page.next;
  }
  return undefined;
}

function summary(version: ConfigVersion, previous: ConfigVersion | undefined): VersionSummaryView {
  return {
    hash: version.hash,
    hashUrl: hashUrl(version.hash),
    hashHex: hex(version.hash),
    recordedAt: new Date(version.recordedAt).toISOString(),
    principal: version.principal ?? null,
    files: version.files.map(fileView),
    changes: versionChanges(previous, version),
  };
}

function fileView(f: ConfigVersion['files'][number]): VersionFileView {
  return { name: f.fileName, size: f.size, contentType: f.contentType, sha256: f.sha256 };
}

/** The bytes as text, or undefined when they are not text (invalid UTF-8, or a NUL byte). */
function textOf(bytes: Uint8Array): string | undefined {
  if (bytes.includes(0)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/** One side of a file's diff: its text (undefined when binary), hash and content type. */
interface DiffFile {
  text: string | undefined;
  sha256: string;
  contentType: string;
}

/** A file's part of the diff: a changed content type on a line of its own, then the content as a unified diff. */
function fileDiff(fileName: string, before: DiffFile | undefined, after: DiffFile | undefined): string {
  const retyped = before && after && before.contentType !== after.contentType ? `Content type of ${fileName}: ${before.contentType} -> ${after.contentType}\n` : '';
  if (before && after && before.sha256 === after.sha256) return retyped;
  if (before?.text === undefined && before) return `${retyped}${binary(fileName, true, after !== undefined)}`;
  if (after?.text === undefined && after) return `${retyped}${binary(fileName, before !== undefined, true)}`;
  return retyped + unifiedDiff(before ? { name: fileName, text: before.text! } : undefined, after ? { name: fileName, text: after.text! } : undefined);
}

function binary(fileName: string, hadBefore: boolean, hasAfter: boolean): string {
  return `Binary files ${hadBefore ? `a/${fileName}` : '/dev/null'} and ${hasAfter ? `b/${fileName}` : '/dev/null'} differ\n`;
}
