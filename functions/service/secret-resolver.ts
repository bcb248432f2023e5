import { contentId } from '../core/canonical-hash.js';
import type { FleetState } from '../core/fleet.js';
import { pickSecretValue, secretRefId, secretRefsOf } from '../core/secret-refs.js';
import type { SecretLookup, SecretRef } from '../core/secret-refs.js';
import type { Telemetry } from '../observability/telemetry.js';
import type { SecretReader } from '../ports/secret-reader.js';

export interface SecretResolverDeps {
  /** Secrets Manager; names in settings are relative to `prefix`. */
  secrets?: SecretReader | undefined;
  /** The name prefix every secret settings name lives under (the function may read only these). */
  prefix: string;
  /** A local backend's file reader (undefined when the file does not exist); without it `file` references fail. */
  readFile?: ((path: string) => Promise<string | undefined>) | undefined;
  /** A local backend's environment; without it `env` references fail. */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  now: () => number;
  /** How long a value is used before its source is read again. */
  refreshMs: number;
  telemetry: Telemetry;
}

/** One source (a secret, a variable, a file), read as a whole; references with different keys share it. */
interface Entry {
  loadedAt: number;
  /** The last read, or why it failed. */
  read: { text: string; version: string } | { error: string; unavailable: boolean };
  /** The last good read, kept while the source cannot be read. */
  good?: { text: string; version: string } | undefined;
}

/** After a failed read, the next attempt waits this long (a poll must not hammer an unavailable source). */
const RETRY_AFTER_FAILURE_MS = 30_000;

/**
 * Values of the secrets settings documents name, cached per function instance
 * for at most `refreshMs`. A source that cannot be read keeps its last good
 * value (with a problem to show); one never read is reported as temporarily
 * unavailable, so that offers wait rather than go out without it. A value's
 * version (Secrets Manager's VersionId, else a content id) goes into the
 * settings hash, so a rotated secret reaches the agents as a new offer.
 */
export class SecretResolver {
  private readonly entries = new Map<string, Entry>();
  private readonly inFlight = new Map<string, Promise<Entry>>();

  constructor(private readonly deps: SecretResolverDeps) {}

  /** Every secret the fleet's settings documents name, for synchronous lookup while deciding. */
  async lookup(fleet: FleetState): Promise<(ref: SecretRef) => SecretLookup> {
    const refs = new Map<string, SecretRef>();
    for (const spec of fleet.settings.values()) for (const ref of secretRefsOf(spec)) refs.set(secretRefId(ref), ref);
    const resolved = new Map<string, SecretLookup>();
    await Promise.all([...refs].map(async ([id, ref]) => resolved.set(id, await this.resolve(ref))));
    return (ref) => resolved.get(secretRefId(ref));
  }

  async resolve(ref: SecretRef): Promise<SecretLookup> {
    const source = sourceOf(ref);
    const entry = await this.entry(source, ref);
    const current = 'text' in entry.read ? entry.read : undefined;
    const base = current ?? entry.good;
    if (!base) {
      const failure = entry.read as { error: string; unavailable: boolean };
      return { error: failure.error, ...(failure.unavailable ? { temporary: true } : {}) };
    }
    try {
      const name = 'secret' in ref ? `${this.deps.prefix}${ref.secret}` : source;
      const value = pickSecretValue(base.text, 'secret' in ref ? ref.key : undefined, name);
      return { value, version: base.version, ...(current ? {} : { stale: (entry.read as { error: string }).error }) };
    } catch (error) {
      return { error: (error as Error).message };
    }
  }

  private async entry(source: string, ref: SecretRef): Promise<Entry> {
    const cached = this.entries.get(source);
    const now = this.deps.now();
    if (cached && now - cached.loadedAt < ('text' in cached.read ? this.deps.refreshMs : Math.min(RETRY_AFTER_FAILURE_MS, this.deps.refreshMs))) return cached;
    let pending = this.inFlight.get(source);
    if (!pending) {
      pending = this.load(source, ref, cached).finally(() => this.inFlight.delete(source));
      this.inFlight.set(source, pending);
    }
    return pending;
  }

  private async load(source: string, ref: SecretRef, previous: Entry | undefined): Promise<Entry> {
    let read: Entry['read'];
    try {
      read = await this.read(ref);
    } catch (error) {
      const unavailable = !(error instanceof NotReadableHereError);
      read = { error: (error as Error).message, unavailable };
      this.deps.telemetry.logger.warn('secret unavailable', { secret: source, error: read.error });
    }
    const entry: Entry = { loadedAt: this.deps.now(), read, good: 'text' in read ? read : previous?.good };
    this.entries.set(source, entry);
    return entry;
  }

  private async read(ref: SecretRef): Promise<{ text: string; version: string }> {
    if ('secret' in ref) {
      if (!this.deps.secrets) throw new NotReadableHereError('this function cannot read Secrets Manager');
      const secretId = `${this.deps.prefix}${ref.secret}`;
      const out = await this.deps.secrets.getSecret(secretId).catch((e: Error) => {
        throw new Error(`secret ${secretId}: ${e.message}`);
      });
      return { text: out.value, version: out.versionId || contentId(out.value) };
    }
    if ('env' in ref) {
      if (!this.deps.env) throw new NotReadableHereError('environment variables are only read by a local backend; keep the value in Secrets Manager');
      const text = this.deps.env[ref.env];
      if (text === undefined) throw new Error(`environment variable ${ref.env} is not set`);
      return { text, version: contentId(text) };
    }
    if (!this.deps.readFile) throw new NotReadableHereError('files are only read by a local backend; keep the value in Secrets Manager');
    const text = await this.deps.readFile(ref.file);
    if (text === undefined) throw new Error(`${ref.file} does not exist`);
    // A trailing newline is how files end, not part of a credential.
    const value = text.replace(/\r?\n$/, '');
    return { text: value, version: contentId(value) };
  }
}

/** A reference this function can never read (as opposed to a source that failed just now). */
class NotReadableHereError extends Error {}

function sourceOf(ref: SecretRef): string {
  if ('secret' in ref) return `secret:${ref.secret}`;
  return secretRefId(ref);
}
