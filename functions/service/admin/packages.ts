import { packageVersionPrefix, SIGNATURE_SUFFIX } from '../../core/bucket-layout.js';
import { desiredState } from '../../core/desired-state.js';
import { assertNoViolation, pathViolation } from '../../core/names.js';
import { packageFolderOfName, packageKey, packageNameOfFolder, packageRolloutState } from '../../core/packages.js';
import type { PackageRolloutState } from '../../core/packages.js';
import { everyAgent } from '../../ports/agent-store.js';
import type { AdminDeps } from './deps.js';
import { deleteAllUnder, NotFoundError } from './deps.js';

/** Upload URLs are for one upload, now. */
const UPLOAD_URL_TTL_SECONDS = 15 * 60;

export interface PackageVersionView {
  /** The package's name in the bucket and in assignment files (`_agent` for the agent itself). */
  name: string;
  version: string;
  file: string;
  size: number;
  sha256: string;
  signed: boolean;
  error: string | null;
}

export interface PackageRolloutView {
  name: string;
  version: string;
  matched: number;
  installed: number;
  installing: number;
  failed: number;
  pending: number;
  /** Agents it is meant for that do not accept packages; not part of `matched`, since they never install it. */
  notAccepted: number;
  /** Every agent that does not have it installed yet, with what it reported. */
  agents: Array<{ instanceUid: string; state: PackageRolloutState; status: string; error: string }>;
}

/** Where to PUT a package version's file (and its signature), straight into the bucket. */
export interface PackageUploadUrls {
  file: string;
  signature?: string;
}

export async function listPackages(deps: AdminDeps): Promise<PackageVersionView[]> {
  const { packageVersions } = await deps.fleet.load();
  return packageVersions
    .map((p) => ({
      name: packageFolderOfName(p.name),
      version: p.version,
      file: p.objectKey.slice(p.objectKey.lastIndexOf('/') + 1),
      size: p.size,
      sha256: p.sha256,
      signed: p.signature !== undefined,
      error: p.error ?? null,
    }))
    .sort((a, b) => (a.name === b.name ? (a.version < b.version ? -1 : 1) : a.name < b.name ? -1 : 1));
}

/**
 * Upload URLs for a package version's file (and its signature): package
 * files can be far larger than an API request may be, so they go straight
 * to the bucket.
 */
export async function packageUploadUrls(deps: AdminDeps, folder: string, version: string, fileName: string, withSignature: boolean): Promise<PackageUploadUrls> {
  if (!deps.uploads) throw new Error('no upload URL signer is wired');
  for (const name of withSignature ? [fileName, `${fileName}${SIGNATURE_SUFFIX}`] : [fileName]) {
    assertNoViolation(pathViolation('package file name', name, packageVersionPrefix(folder, version)));
  }
  const key = `${packageVersionPrefix(folder, version)}${fileName}`;
  const existing = await deps.objects.listObjects(packageVersionPrefix(folder, version));
  for (const object of existing) {
    if (object.key !== key && object.key !== `${key}${SIGNATURE_SUFFIX}`) await deps.objects.deleteObject(object.key);
  }
  return {
    file: await deps.uploads.signPut(key, UPLOAD_URL_TTL_SECONDS),
    ...(withSignature ? { signature: await deps.uploads.signPut(`${key}${SIGNATURE_SUFFIX}`, UPLOAD_URL_TTL_SECONDS) } : {}),
  };
}

export async function deletePackage(deps: AdminDeps, folder: string, version: string): Promise<void> {
  await deleteAllUnder(deps, packageVersionPrefix(folder, version), `no package ${folder} ${version}`);
}

/** Where one package version stands over every agent whose package set includes it. */
export async function packageRollout(deps: AdminDeps, folder: string, version: string): Promise<PackageRolloutView> {
  const { state: fleet } = await deps.fleet.load();
  const name = packageNameOfFolder(folder);
  // A version neither in the bucket nor named by any assignment is a typo, not an empty rollout.
  if (!fleet.packages.has(packageKey(name, version)) && !fleet.assignments.some((a) => a.packages?.[name] === version)) {
    throw new NotFoundError(`no package ${folder} ${version}`);
  }
  const view: PackageRolloutView = { name: folder, version, matched: 0, installed: 0, installing: 0, failed: 0, pending: 0, notAccepted: 0, agents: [] };
  for await (const record of everyAgent(deps.agents)) {
    if (desiredState(record, fleet).packages?.spec[name] !== version) continue;
    const summary = record.packages?.[name];
    const state = packageRolloutState(record.capabilities, version, summary);
    if (state === 'not-accepted') view.notAccepted++;
    else {
      view.matched++;
      view[state]++;
    }
    if (state !== 'installed') {
      view.agents.push({ instanceUid: record.instanceUid, state, status: summary?.status ?? 'not reported', error: summary?.error ?? '' });
    }
  }
  return view;
}
