import { create } from '@bufbuild/protobuf';
import { TLSCertificateSchema } from '../gen/opamp/v1/opamp_pb.js';
import type { TLSCertificate } from '../gen/opamp/v1/opamp_pb.js';
import type { HeldCertificate } from './certificate-expiry.js';
import type { ConnectionContext, HeaderMap, PartKey, ProxySpec } from './connection-settings.js';
import { utf8 } from './settings-messages.js';
import { isSecretRef, secretRefId } from './secret-refs.js';
import { byKey } from './compare.js';

/** Name/value pairs for an offer, and what identifies them in a settings hash. */
export interface ResolvedValues {
  /** Sorted by name; values as the agent receives them. */
  pairs: Array<readonly [string, string]>;
  /** The same names with literal values, or a secret's reference and version: never a secret's value. */
  identity: Array<readonly [string, string]>;
}

/**
 * Resolves the values of a header map (or other settings): literals as they
 * are, references through the context. A reference that cannot be resolved
 * withholds the whole part, with a reason: an offer is never half-built. A
 * value kept from an earlier read while the source is unreadable is used,
 * and shown as a problem.
 */
export function resolveValues(label: string, values: HeaderMap | undefined, context: ConnectionContext, problems: string[]): ResolvedValues | undefined {
  const pairs: Array<readonly [string, string]> = [];
  const identity: Array<readonly [string, string]> = [];
  let complete = true;
  const entries = Object.entries(values ?? {}).sort(byKey);
  for (const [name, value] of entries) {
    if (!isSecretRef(value)) {
      pairs.push([name, value]);
      identity.push([name, value]);
      continue;
    }
    const id = secretRefId(value);
    const found = context.secret?.(value);
    if (!found) {
      problems.push(`${label}.${name}: secret ${id} is not available yet`);
      complete = false;
    } else if ('error' in found) {
      problems.push(`${label}.${name}: secret ${id}: ${found.error}`);
      complete = false;
    } else {
      if (found.stale !== undefined) problems.push(`${label}.${name}: secret ${id} could not be read again (${found.stale}); its last value is offered`);
      pairs.push([name, found.value]);
      identity.push([name, `${id}@${found.version}`]);
    }
  }
  return complete ? { pairs, identity } : undefined;
}

/** The resolved values of a destination: its headers, its proxy's connect headers and (other connections) its settings. */
export interface DestinationValues {
  headers: ResolvedValues;
  proxyHeaders: ResolvedValues;
  otherSettings: ResolvedValues;
  /** The proxy as hashed: connect header values by identity. */
  proxyIdentity: ProxySpec | undefined;
}

export function resolveDestinationValues(
  label: string,
  destination: { headers?: HeaderMap | undefined; proxy?: ProxySpec | undefined; otherSettings?: HeaderMap | undefined },
  context: ConnectionContext,
  problems: string[],
): DestinationValues | undefined {
  const headers = resolveValues(`${label}.headers`, destination.headers, context, problems);
  const proxyHeaders = resolveValues(`${label}.proxy.connectHeaders`, destination.proxy?.connectHeaders, context, problems);
  const otherSettings = resolveValues(`${label}.otherSettings`, destination.otherSettings, context, problems);
  if (!headers || !proxyHeaders || !otherSettings) return undefined;
  const proxy = destination.proxy;
  const proxyIdentity = proxy?.connectHeaders ? { ...proxy, connectHeaders: Object.fromEntries(proxyHeaders.identity) } : proxy;
  return { headers, proxyHeaders, otherSettings, proxyIdentity };
}

/** A certificate a part carries, by reference: what identifies it in hashes, and its message. */
export interface CertificatePart {
  message: () => TLSCertificate;
  identity: string;
  /** The certificate as held by the agent of a part (settings certificates with a known expiry only). */
  held?: ((part: PartKey) => HeldCertificate) | undefined;
}

/** The certificate a reference names, or undefined with the reason among the problems (missing, unusable, expired). */
export function certificatePart(label: string, ref: string, context: ConnectionContext, problems: string[]): CertificatePart | undefined {
  const found = context.certificate(ref);
  if (!found) {
    problems.push(`${label}: certificate "${ref}" is not available yet`);
    return undefined;
  }
  if ('error' in found) {
    problems.push(`${label}: certificate "${ref}": ${found.error}`);
    return undefined;
  }
  const notAfter = found.notAfter;
  if (notAfter !== undefined && context.now !== undefined && notAfter <= context.now) {
    problems.push(`${label}: certificate "${ref}" expired at ${new Date(notAfter).toISOString()}`);
    return undefined;
  }
  return {
    identity: `cert:${found.fingerprint}`,
    ...(notAfter !== undefined ? { held: (part: PartKey) => ({ part, source: ref, fingerprint: found.fingerprint, notAfter }) } : {}),
    message: () =>
      create(TLSCertificateSchema, {
        cert: utf8(found.cert),
        ...(found.key !== undefined ? { privateKey: utf8(found.key) } : {}),
        ...(found.ca !== undefined ? { caCert: utf8(found.ca) } : {}),
      }),
  };
}
