import { sha256, stableJson } from './canonical-hash.js';
import type { ConfigFileMeta } from './fleet.js';
import { compareStrings } from './compare.js';

/**
 * The config_hash sent with a configuration: SHA-256 over its files' names,
 * content types and content hashes, in name order. The same files give the
 * same hash whatever order they were uploaded in, on any function instance.
 * Returned as base64 of the 32 hash bytes.
 */
export function configHash(files: readonly Pick<ConfigFileMeta, 'fileName' | 'contentType' | 'sha256'>[]): string {
  const canonical = [...files].sort((a, b) => compareStrings(a.fileName, b.fileName)).map((f) => ({ name: f.fileName, contentType: f.contentType, sha256: f.sha256 }));
  return sha256(stableJson(canonical)).toString('base64');
}

const CONTENT_TYPES_BY_EXTENSION: Record<string, string> = {
  yaml: 'text/yaml',
  yml: 'text/yaml',
  json: 'application/json',
  toml: 'application/toml',
  xml: 'application/xml',
  txt: 'text/plain',
  conf: 'text/plain',
  cfg: 'text/plain',
  ini: 'text/plain',
  properties: 'text/plain',
};

/** S3's defaults when an upload named no type: they say nothing about the content. */
const UNSPECIFIED_CONTENT_TYPES = new Set(['', 'binary/octet-stream', 'application/octet-stream']);

/** The object's own Content-Type when it was given one, else one inferred from the file extension. */
export function configContentType(fileName: string, objectContentType: string | undefined): string {
  const given = (objectContentType ?? '').trim();
  if (!UNSPECIFIED_CONTENT_TYPES.has(given.toLowerCase())) return given;
  const extension = /\.([^./]+)$/.exec(fileName)?.[1]?.toLowerCase() ?? '';
  return CONTENT_TYPES_BY_EXTENSION[extension] ?? 'application/octet-stream';
}
