import { create } from '@bufbuild/protobuf';
import { HeaderSchema, HeadersSchema, ProxyConnectionSettingsSchema, TLSConnectionSettingsSchema } from '../gen/opamp/v1/opamp_pb.js';
import type { Headers, ProxyConnectionSettings, TLSConnectionSettings } from '../gen/opamp/v1/opamp_pb.js';
import type { ProxySpec, TlsSpec } from './connection-settings.js';

/** The protobuf pieces of connection settings offers, built from validated settings. */

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

/** The proxy settings, with its connect headers already resolved. */
export function proxyMessage(proxy: ProxySpec, headers: ReadonlyArray<readonly [string, string]>): ProxyConnectionSettings {
  return create(ProxyConnectionSettingsSchema, { url: proxy.url, ...(headers.length > 0 ? { connectHeaders: headersMessage(headers) } : {}) });
}

export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}
