import * as z from './schema.js';
import { isValidName } from './names.js';
import { isCertificateRef } from './certificate-ref.js';
import type { ConnectionSettingsSpec } from './connection-settings.js';
import { RejectedRequestError } from './errors.js';
import { SECRET_ENV_PREFIX } from './secret-refs.js';
import { describeIssues } from './validation-text.js';

/**
 * A settings document, `settings/<name>.json`: connection settings offered to
 * the agents it is assigned to (an assignment's "settings", or the document
 * named `default` for every agent without one):
 *
 *   {
 *     "opamp": {"token": "fleet-2026-12", "heartbeat": {"idleSeconds": 300, "pendingSeconds": 15}},
 *     "ownMetrics": {"endpoint": "https://otlp.example.com/v1/metrics", "headers": {"x-api-key": "..."}},
 *     "ownLogs": {"endpoint": "https://otlp.example.com/v1/logs"},
 *     "otherConnections": {"archive": {"endpoint": "https://archive.example.com", "otherSettings": {"bucket": "logs"}}}
 *   }
 *
 * `opamp` never names an endpoint: agents are always sent the server's own
 * URL. Its credential is an agent token (`token`, created deliverable), not an
 * Authorization header, so that the server knows which agents moved to it.
 * Certificates are references: a name (`certificates/<name>/` in the bucket),
 * `secretsmanager:<secret id>` or, on a local backend, `file:<directory>`.
 * Header values and other connections' settings may name a secret instead of
 * holding a value: {"secret": "<name>", "key": "<field>"} (see secret-refs.ts).
 * Unknown fields are errors, so typos do not pass silently.
 */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;

/** A secret reference (see secret-refs.ts); its value is read only by the agent endpoint. */
const secretRefSchema = z.union([
  z.strictObject({
    secret: z.string().check(
      z.regex(SECRET_NAME, "a secret name is 1-512 letters, digits and /_+=.@- (relative to the deployment's secret prefix)"),
      z.refine((n) => !n.split('/').includes('..') && !n.startsWith('/'), "a secret name may not climb out of the deployment's prefix"),
    ),
    key: z.optional(z.string().check(z.minLength(1), z.maxLength(256))),
  }),
  z.strictObject({ env: z.string().check(z.regex(/^OPAMP_SECRET_[A-Za-z0-9_]+$/, `environment variables named by settings begin with ${SECRET_ENV_PREFIX}`)) }),
  z.strictObject({ file: z.string().check(z.minLength(1), z.maxLength(4096)) }),
]);

const credential = z.union([z.string().check(z.maxLength(8192)), secretRefSchema]);
const headers = z.record(z.string().check(z.regex(HEADER_NAME, 'header names are HTTP tokens (letters, digits, "-", ...)')), credential);
const certificate = z.string().check(z.refine(isCertificateRef, 'a certificate is a name (certificates/<name>/ in the bucket), "secretsmanager:<secret id>" or "file:<directory>"'));
const httpUrl = z.string().check(z.refine(isHttpUrl, 'must be an http:// or https:// URL'));
const tlsVersion = z.enum(['1.0', '1.1', '1.2', '1.3']);

const tls = z.strictObject({
  caPem: z.optional(z.string().check(z.includes('-----BEGIN CERTIFICATE-----', { message: 'must hold PEM certificates' }))),
  includeSystemCaCertsPool: z.optional(z.boolean()),
  insecureSkipVerify: z.optional(z.boolean()),
  minVersion: z.optional(tlsVersion),
  maxVersion: z.optional(tlsVersion),
  cipherSuites: z.optional(z.array(z.string().check(z.minLength(1)))),
});

const proxy = z.strictObject({ url: z.string().check(z.refine(isProxyUrl, 'must be an http://, https:// or socks5:// URL')), connectHeaders: z.optional(headers) });

const destination = z.strictObject({ endpoint: httpUrl, headers: z.optional(headers), certificate: z.optional(certificate), tls: z.optional(tls), proxy: z.optional(proxy) });

const other = z.strictObject({
  endpoint: z.string().check(z.minLength(1, 'must name the destination')),
  headers: z.optional(headers),
  certificate: z.optional(certificate),
  tls: z.optional(tls),
  proxy: z.optional(proxy),
  otherSettings: z.optional(z.record(z.string().check(z.minLength(1)), credential)),
});

const opamp = z.strictObject({
  token: z.optional(z.string().check(z.refine(isValidName, 'must be an agent token name'))),
  headers: z.optional(headers.check(z.refine((h) => !Object.keys(h).some((k) => k.toLowerCase() === 'authorization'), '"headers" may not hold Authorization: name an agent token in "token" instead'))),
  certificate: z.optional(certificate),
  tls: z.optional(tls),
  proxy: z.optional(proxy),
  heartbeat: z.optional(
    z.strictObject({
      idleSeconds: z.optional(z.int().check(z.minimum(1), z.maximum(86_400))),
      pendingSeconds: z.optional(z.int().check(z.minimum(0), z.maximum(86_400))),
    }),
  ),
});

export const settingsDocument = z
  .strictObject({
    opamp: z.optional(opamp),
    ownMetrics: z.optional(destination),
    ownTraces: z.optional(destination),
    ownLogs: z.optional(destination),
    otherConnections: z.optional(z.record(z.string().check(z.refine(isValidName, 'connection names are letters, digits, ".", "_", "-"')), other)),
  })
  .check(z.refine((d) => Object.values(d).some((v) => v !== undefined), 'set at least one of "opamp", "ownMetrics", "ownTraces", "ownLogs", "otherConnections"'));

export type SettingsDocument = z.input<typeof settingsDocument>;

export class SettingsFileError extends RejectedRequestError {
  override readonly name = 'SettingsFileError';

  constructor(message: string) {
    super('invalid', 'invalid-settings', message);
  }
}

/** Parses and validates a settings document; throws SettingsFileError with one readable line. */
export function parseSettings(text: string): ConnectionSettingsSpec {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SettingsFileError(`not valid JSON: ${(error as Error).message}`);
  }
  return validateSettings(json);
}

export function validateSettings(json: unknown): ConnectionSettingsSpec {
  const parsed = settingsDocument.safeParse(json);
  if (!parsed.success) {
    throw new SettingsFileError(describeIssues(parsed.error.issues, 'settings'));
  }
  return parsed.data;
}

function isHttpUrl(text: string): boolean {
  return hasScheme(text, ['http:', 'https:']);
}

function isProxyUrl(text: string): boolean {
  return hasScheme(text, ['http:', 'https:', 'socks5:']);
}

function hasScheme(text: string, schemes: readonly string[]): boolean {
  try {
    return schemes.includes(new URL(text).protocol);
  } catch {
    return false;
  }
}
