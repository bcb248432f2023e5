import type { ConnectionSettingsSpec, HeaderMap } from './connection-settings.js';

/**
 * A credential in a settings document (a header value, another connection's
 * setting) may name a secret instead of holding its value:
 *
 *   {"secret": "otel/api-key"}                  Secrets Manager: the secret <prefix>otel/api-key
 *   {"secret": "otel/keys", "key": "ingest"}    ... the "ingest" field of its JSON value
 *   {"env": "OPAMP_SECRET_OTEL_KEY"}            an environment variable (local backend only)
 *   {"file": "/run/secrets/otel-key"}           a file's content (local backend only)
 *
 * The bucket, the table and the fleet API only ever hold the reference; the
 * value is read by the agent endpoint and appears only in the offer an agent
 * receives. Secret names are relative to the deployment's prefix, so that
 * the function may read nothing else; environment variables must begin with
 * OPAMP_SECRET_, so that a settings document cannot hand out the server's
 * own environment (its AWS credentials among it).
 */
export type SecretRef = { secret: string; key?: string | undefined } | { env: string } | { file: string };

/** A header or setting value: the value itself, or where to read it. */
export type CredentialValue = string | SecretRef;

export const SECRET_ENV_PREFIX = 'OPAMP_SECRET_';

export function isSecretRef(value: CredentialValue | undefined): value is SecretRef {
  return typeof value === 'object' && value !== null;
}

/** The reference as one stable line: what caches, hashes and problems name it by. */
export function secretRefId(ref: SecretRef): string {
  if ('secret' in ref) return `secret:${ref.secret}${ref.key !== undefined ? `#${ref.key}` : ''}`;
  if ('env' in ref) return `env:${ref.env}`;
  return `file:${ref.file}`;
}

/** A secret's value, with the version that identifies it (Secrets Manager's version id, else a content id). */
export interface SecretValue {
  value: string;
  version: string;
  /** The value is the last good one: the source could not be read just now (shown as a problem). */
  stale?: string | undefined;
}

/** A secret, or why it cannot be had: `temporary` when its source could not be read yet (offers then wait). */
export type SecretLookup = SecretValue | { error: string; temporary?: boolean } | undefined;

/** The value a reference names, out of a secret's text: the whole text, or one field of its JSON. */
export function pickSecretValue(text: string, key: string | undefined, name: string): string {
  if (key === undefined) return text;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`secret ${name} is not JSON, so it has no "${key}" field`);
  }
  const value = (json as Record<string, unknown> | null)?.[key];
  if (typeof value !== 'string') throw new Error(`secret ${name} has no string field "${key}"`);
  return value;
}

function maps(spec: ConnectionSettingsSpec): Array<{ label: string; values: Readonly<Record<string, CredentialValue>> | undefined; kind: 'header' | 'setting' }> {
  const destinations = [
    ['opamp', spec.opamp],
    ['ownMetrics', spec.ownMetrics],
    ['ownTraces', spec.ownTraces],
    ['ownLogs', spec.ownLogs],
    ...Object.entries(spec.otherConnections ?? {}).map(([name, o]) => [`otherConnections.${name}`, o] as const),
  ] as const;
  return destinations.flatMap(([label, d]) => {
    if (!d) return [];
    return [
      { label: `${label}.headers`, values: d.headers, kind: 'header' as const },
      { label: `${label}.proxy.connectHeaders`, values: d.proxy?.connectHeaders, kind: 'header' as const },
      ...('otherSettings' in d ? [{ label: `${label}.otherSettings`, values: d.otherSettings as HeaderMap | undefined, kind: 'setting' as const }] : []),
    ];
  });
}

/** Every secret a settings document names. */
export function secretRefsOf(spec: ConnectionSettingsSpec): SecretRef[] {
  return maps(spec).flatMap(({ values }) => Object.values(values ?? {}).filter(isSecretRef));
}

/** Names that say "credential": a literal value under one of them belongs in a secret. */
const CREDENTIAL_NAME = /authorization|api[-_]?key|token|secret|password|passwd|credential|cookie|signature|private[-_]?key|^x-.*-key$|^key$/i;
const CREDENTIAL_VALUE = /^(Bearer|Basic|Token|ApiKey)\s+\S/i;

/**
 * Literal values that look like credentials (by their name, or a value like
 * "Bearer ..."): accepted, but each is worth a warning, since the bucket, the
 * table and the fleet API then hold the credential itself.
 */
export function literalCredentialWarnings(spec: ConnectionSettingsSpec): string[] {
  const warnings: string[] = [];
  for (const { label, values } of maps(spec)) {
    for (const [name, value] of Object.entries(values ?? {})) {
      if (typeof value === 'string' && value !== '' && (CREDENTIAL_NAME.test(name) || CREDENTIAL_VALUE.test(value))) {
        warnings.push(`${label}.${name} holds a literal credential; name a secret instead ({"secret": "<name>"}), so that only the agent sees the value`);
      }
    }
  }
  return warnings;
}
