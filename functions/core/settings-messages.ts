import { create } from '@bufbuild/protobuf';
import { HeaderSchema, HeadersSchema, ProxyConnectionSettingsSchema, TLSConnectionSettingsSchema } from '../gen/opamp/v1/opamp_pb.js';
import type { Headers, ProxyConnectionSettings, TLSConnectionSettings } from '../gen/opamp/v1/opamp_pb.js';
import type { HeaderMap, ProxySpec, TlsSpec } from './connection-settings.js';

/** The protobuf pieces of connection settings offers, built from validated settings. */

export function sortedHeaders(headers: HeaderMap | undefined): Array<readonly [string, string]> {
  return Object.entries(headers ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

export function headersMessage(headers: ReadonlyArray<readonly [string, string]>): Headers {
  return create(HeadersSchema, { headers: headers.map(([key, value]) => create(HeaderSchema, { key, value })) });
}

export function tlsMessage(tls: TlsSpec): TLSConnectionSettings {
  return create(TLSConnectionSettingsSchema, {
    caPemContents: tls.caPem ?? '',
    includeSystemCaCertsPool: tls.includeSystemCaCertsPool ?? false,
    insecureSkipVerify: tls.insecureSkipVerify ?? false,
    minVersion: tls.minVersion ?? '',
    maxVersion: tls.maxVersion ?? '',
    cipherSuites: [...(tls.cipherSuites ?? [])],
  });
}

export function proxyMessage(proxy: ProxySpec): ProxyConnectionSettings {
  const headers = sortedHeaders(proxy.connectHeaders);
  return create(ProxyConnectionSettingsSchema, { url: proxy.url, ...(headers.length > 0 ? { connectHeaders: headersMessage(headers) } : {}) });
}

export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

