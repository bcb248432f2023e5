import { parseCertificateRef } from '../core/certificate-ref.js';
import type { CertificateRef } from '../core/certificate-ref.js';
import { sha256 } from '../core/canonical-hash.js';
import type { CertificateLookup, ConnectionSettingsSpec, ResolvedCertificate } from '../core/connection-settings.js';
import type { FleetState } from '../core/fleet.js';
import { certificateFingerprint } from '../core/pem.js';
import type { Telemetry } from '../observability/telemetry.js';
import type { ObjectStore } from '../ports/object-store.js';
import type { SecretReader } from '../ports/secret-reader.js';
import { validatePemMaterial } from './x509.js';

export interface CertificateResolverDeps {
  /** The bucket (certificates/<name>/). */
  objects?: ObjectStore | undefined;
  /** Secrets Manager (secretsmanager:<id>). */
  secrets?: SecretReader | undefined;
  /** Reads a local file, undefined when it does not exist; only a local backend has it (file:<dir>). */
  readFile?: ((path: string) => Promise<string | undefined>) | undefined;
  now: () => number;
  /** How long material from Secrets Manager or a file is used before it is read again. */
  refreshMs: number;
  telemetry: Telemetry;
}

interface Entry {
  /** What the value was loaded from: content hashes for the bucket, the load time otherwise. */
  identity: string;
  value: CertificateLookup;
  loadedAt: number;
  /** The last good value, kept while a refresh fails. */
  good?: ResolvedCertificate | undefined;
}

/** After a failed read, the next attempt waits this long (a poll must not hammer an unavailable source). */
const RETRY_AFTER_FAILURE_MS = 30_000;

/**
 * Certificate material for connection settings offers, by reference (see
 * certificate-ref.ts), cached per function instance. Bucket material is read
 * again only when the ingest recorded other content (its hashes are in the
 * fleet state); Secrets Manager and files are read again after `refreshMs`.
 * A source that fails keeps its last good material; one never read yet is
 * reported as temporarily unavailable, so that offers wait rather than
 * change.
 */
export class CertificateResolver {
  private readonly entries = new Map<string, Entry>();
  private readonly inFlight = new Map<string, Promise<CertificateLookup>>();

  constructor(private readonly deps: CertificateResolverDeps) {}

  /** Every certificate the fleet's settings documents name, for synchronous lookup while deciding. */
  async lookup(fleet: FleetState): Promise<(ref: string) => CertificateLookup> {
    const refs = new Set<string>();
    for (const spec of fleet.settings.values()) for (const ref of certificateRefs(spec)) refs.add(ref);
    const resolved = new Map<string, CertificateLookup>();
    await Promise.all([...refs].map(async (ref) => resolved.set(ref, await this.resolve(ref, fleet))));
    return (ref) => resolved.get(ref);
  }

  /** One certificate, with its private key when the source holds one. */
  async resolve(ref: string, fleet: FleetState): Promise<CertificateLookup> {
    const parsed = parseCertificateRef(ref);
    if (!parsed) return { error: `"${ref}" is not a certificate reference` };
    const identity = this.identityOf(ref, parsed, fleet);
    if (typeof identity === 'object') return identity;
    const entry = this.entries.get(ref);
    if (entry && entry.identity === identity && !this.retryDue(entry)) return entry.value;
    let pending = this.inFlight.get(ref);
    if (!pending) {
      pending = this.load(ref, parsed, identity, fleet, entry).finally(() => this.inFlight.delete(ref));
      this.inFlight.set(ref, pending);
    }
    return pending;
  }

  /**
   * What decides whether a cached value is still good: the recorded content
   * hashes for the bucket; for the other sources, the refresh period the
   * current time falls in (or the retry period after a failure).
   */
  private identityOf(ref: string, parsed: CertificateRef, fleet: FleetState): string | { error: string } {
    if (parsed.source === 'bucket') {
      const meta = fleet.certificates.get(parsed.name);
      if (!meta) return { error: `there is no certificates/${parsed.name}/ folder in the bucket` };
      if (meta.error !== undefined) return { error: meta.error };
      if (!meta.cert || !meta.fingerprint) return { error: `certificates/${parsed.name}/ has no cert.pem` };
      return [meta.cert, meta.key, meta.ca].map((f) => f?.sha256 ?? '-').join('/');
    }
    const entry = this.entries.get(ref);
    const now = this.deps.now();
    if (entry && now - entry.loadedAt < (entry.value && !('error' in entry.value) ? this.deps.refreshMs : RETRY_AFTER_FAILURE_MS)) {
      return entry.identity;
    }
    return `read@${now}`;
  }

  /** A read that failed for want of the source is tried again after a while, even when nothing was recorded as changed. */
  private retryDue(entry: Entry): boolean {
    const failed = entry.value !== undefined && 'error' in entry.value && entry.value.temporary === true;
    return failed && this.deps.now() - entry.loadedAt >= RETRY_AFTER_FAILURE_MS;
  }

  private async load(ref: string, parsed: CertificateRef, identity: string, fleet: FleetState, previous: Entry | undefined): Promise<CertificateLookup> {
    let value: CertificateLookup;
    try {
      const material = await this.read(parsed, fleet);
      const info = await validatePemMaterial(material);
      const fingerprint = certificateFingerprint(material.cert);
      value = fingerprint === undefined ? { error: 'no certificate in cert' } : { ...material, fingerprint, notAfter: info.notAfter };
    } catch (error) {
      const message = (error as Error).message;
      const unreadable = error instanceof SourceUnavailableError;
      this.deps.telemetry.logger.warn('certificate material unavailable', { ref, error: message });
      value = unreadable && previous?.good ? previous.good : { error: message, ...(unreadable ? { temporary: true } : {}) };
    }
    const good = value && !('error' in value) ? value : previous?.good;
    this.entries.set(ref, { identity, value, loadedAt: this.deps.now(), good });
    return value;
  }

  private async read(ref: CertificateRef, fleet: FleetState): Promise<{ cert: string; key?: string; ca?: string }> {
    switch (ref.source) {
      case 'bucket': {
        const meta = fleet.certificates.get(ref.name)!;
        const objects = this.deps.objects;
        if (!objects) throw new Error('this function cannot read the bucket');
        const text = async (file: { objectKey: string; sha256: string; versionId?: string | undefined } | undefined) => {
          if (!file) return undefined;
          const object = await objects.getObject(file.objectKey, file.versionId).catch((e: Error) => {
            throw new SourceUnavailableError(`${file.objectKey}: ${e.message}`);
          });
          if (!object || sha256(object.bytes).toString('hex') !== file.sha256) {
            throw new SourceUnavailableError(`${file.objectKey} changed since it was recorded`);
          }
          return new TextDecoder().decode(object.bytes);
        };
        const [cert, key, ca] = await Promise.all([text(meta.cert), text(meta.key), text(meta.ca)]);
        return { cert: cert!, ...(key !== undefined ? { key } : {}), ...(ca !== undefined ? { ca } : {}) };
      }
      case 'secretsmanager': {
        if (!this.deps.secrets) throw new Error('this function cannot read Secrets Manager');
        const raw = await this.deps.secrets.getSecretString(ref.secretId).catch((e: Error) => {
          throw new SourceUnavailableError(`secret ${ref.secretId}: ${e.message}`);
        });
        return secretMaterial(raw, ref.secretId);
      }
      case 'file': {
        const readFile = this.deps.readFile;
        if (!readFile) throw new Error('file: certificates are only read by a local backend; keep them in the bucket or Secrets Manager');
        const dir = ref.directory.replace(/\/+$/, '');
        const [cert, key, ca] = await Promise.all(['cert.pem', 'key.pem', 'ca.pem'].map((f) => readFile(`${dir}/${f}`)));
        if (cert === undefined) throw new Error(`${dir}/cert.pem does not exist`);
        return { cert, ...(key !== undefined ? { key } : {}), ...(ca !== undefined ? { ca } : {}) };
      }
    }
  }
}

/** A source that could not be read (as opposed to material that is wrong). */
class SourceUnavailableError extends Error {}

/** A secret holds {"cert": "<PEM>", "key": "<PEM>", "ca": "<PEM>"} (key and ca optional). */
function secretMaterial(raw: string, secretId: string): { cert: string; key?: string; ca?: string } {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new Error(`secret ${secretId} is not JSON: expected {"cert": "<PEM>", "key": "<PEM>", "ca": "<PEM>"}`);
  }
  const doc = json as Record<string, unknown>;
  const field = (name: string) => {
    const value = doc?.[name];
    if (value !== undefined && typeof value !== 'string') throw new Error(`secret ${secretId}: "${name}" must be a PEM string`);
    return value as string | undefined;
  };
  const cert = field('cert');
  if (cert === undefined) throw new Error(`secret ${secretId} has no "cert"`);
  const key = field('key');
  const ca = field('ca');
  return { cert, ...(key !== undefined ? { key } : {}), ...(ca !== undefined ? { ca } : {}) };
}

/** Every certificate reference a settings document makes. */
export function certificateRefs(spec: ConnectionSettingsSpec): string[] {
  return [
    spec.opamp?.certificate,
    spec.ownMetrics?.certificate,
    spec.ownTraces?.certificate,
    spec.ownLogs?.certificate,
    ...Object.values(spec.otherConnections ?? {}).map((o) => o.certificate),
  ].filter((r): r is string => r !== undefined);
}
