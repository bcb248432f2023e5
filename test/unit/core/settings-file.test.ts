import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCertificateRef, parseCertificateRef } from '../../../functions/core/certificate-ref.js';
import type { CertificateRef } from '../../../functions/core/certificate-ref.js';
import type { ConnectionSettingsSpec } from '../../../functions/core/connection-settings.js';
import { RejectedRequestError } from '../../../functions/core/errors.js';
import { SettingsFileError, parseSettings, validateSettings } from '../../../functions/core/settings-file.js';

const CA_PEM = '-----BEGIN CERTIFICATE-----\nTUlJQg==\n-----END CERTIFICATE-----\n';

/** The error parseSettings throws for `text`, or a failure when it throws none. */
function rejection(text: string): SettingsFileError {
  try {
    parseSettings(text);
  } catch (error) {
    if (error instanceof SettingsFileError) return error;
    throw error;
  }
  throw new Error(`accepted: ${text}`);
}

describe('parseSettings', () => {
  it('reads the documented example as it is written', () => {
    // Prepare
    const text = JSON.stringify({
      opamp: { token: 'fleet-2026-12', heartbeat: { idleSeconds: 300, pendingSeconds: 15 } },
      ownMetrics: { endpoint: 'https://otlp.example.com/v1/metrics', headers: { 'x-api-key': '...' } },
      ownLogs: { endpoint: 'https://otlp.example.com/v1/logs' },
      otherConnections: { archive: { endpoint: 'https://archive.example.com', otherSettings: { bucket: 'logs' } } },
    });

    // Act
    const spec = parseSettings(text);

    // Assess
    expect(spec).toEqual({
      opamp: { token: 'fleet-2026-12', heartbeat: { idleSeconds: 300, pendingSeconds: 15 } },
      ownMetrics: { endpoint: 'https://otlp.example.com/v1/metrics', headers: { 'x-api-key': '...' } },
      ownLogs: { endpoint: 'https://otlp.example.com/v1/logs' },
      otherConnections: { archive: { endpoint: 'https://archive.example.com', otherSettings: { bucket: 'logs' } } },
    });
  });

  it.each<[string, ConnectionSettingsSpec]>([
    ['an empty opamp section (the server URL and credential alone)', { opamp: {} }],
    [
      'every opamp field',
      {
        opamp: {
          token: 'fleet.b_2',
          headers: { 'x-tenant': 'acme', "x-odd!#$%&'*+.^_`|~": 'v' },
          certificate: 'opamp-client',
          tls: { caPem: CA_PEM, includeSystemCaCertsPool: false, insecureSkipVerify: false, minVersion: '1.2', maxVersion: '1.3', cipherSuites: ['TLS_AES_128_GCM_SHA256'] },
          proxy: { url: 'socks5://proxy.internal:1080', connectHeaders: { 'proxy-authorization': 'Basic eA==' } },
          heartbeat: { idleSeconds: 86_400, pendingSeconds: 0 },
        },
      },
    ],
    [
      'a destination with a Secrets Manager certificate and an https proxy',
      {
        ownTraces: { endpoint: 'http://collector:4318/v1/traces', certificate: 'secretsmanager:arn:aws:secretsmanager:eu-west-1:123456789012:secret:otlp-AbCdEf', proxy: { url: 'https://proxy:443' } },
      },
    ],
    ['a local certificate directory', { ownLogs: { endpoint: 'https://l.example.com/v1/logs', certificate: 'file:/etc/opamp/certs/logs' } }],
    ['an other connection to a destination that is not a URL', { otherConnections: { 'kafka-1': { endpoint: 'kafka-1.internal:9092', otherSettings: { topic: 'otlp', empty: '' } } } }],
    ['the smallest idle interval', { opamp: { heartbeat: { idleSeconds: 1 } } }],
  ])('accepts %s', (_name, document) => {
    // Act
    const spec = parseSettings(JSON.stringify(document));

    // Assess
    expect(spec).toEqual(document);
  });

  it.each<[string, string, RegExp]>([
    ['invalid JSON', '{"opamp": ', /^not valid JSON: /],
    ['an empty file', '', /^not valid JSON: /],
    ['JSON null', 'null', /^settings: .*object/i],
    ['an array', '[{"opamp": {}}]', /^settings: .*object/i],
    ['an empty document', '{}', /^settings: set at least one of "opamp", "ownMetrics", "ownTraces", "ownLogs", "otherConnections"$/],
    ['a misspelt section', '{"ownMetric": {"endpoint": "https://m/v1/metrics"}}', /ownMetric/],
    ["an opamp endpoint (it is always the server's own)", '{"opamp": {"endpoint": "https://elsewhere/v1/opamp"}}', /^opamp: .*"endpoint"/],
    [
      'an Authorization header in opamp headers',
      '{"opamp": {"headers": {"authorization": "Bearer x"}}}',
      /^opamp\.headers: "headers" may not hold Authorization: name an agent token in "token" instead$/,
    ],
    [
      'an Authorization header in other case',
      '{"opamp": {"headers": {"AuThOrIzAtIoN": "Bearer x"}}}',
      /^opamp\.headers: "headers" may not hold Authorization: name an agent token in "token" instead$/,
    ],
    ['a token that is not a token name', '{"opamp": {"token": "fleet/2026"}}', /^opamp\.token: must be an agent token name$/],
    ['an empty token name', '{"opamp": {"token": ""}}', /^opamp\.token: must be an agent token name$/],
    ['an idle interval of 0', '{"opamp": {"heartbeat": {"idleSeconds": 0}}}', /^opamp\.heartbeat\.idleSeconds: /],
    ['an idle interval over a day', '{"opamp": {"heartbeat": {"idleSeconds": 86401}}}', /^opamp\.heartbeat\.idleSeconds: /],
    ['a fractional pending interval', '{"opamp": {"heartbeat": {"pendingSeconds": 1.5}}}', /^opamp\.heartbeat\.pendingSeconds: /],
    ['a negative pending interval', '{"opamp": {"heartbeat": {"pendingSeconds": -1}}}', /^opamp\.heartbeat\.pendingSeconds: /],
    ['an interval given as text', '{"opamp": {"heartbeat": {"idleSeconds": "60"}}}', /^opamp\.heartbeat\.idleSeconds: /],
    ['an unknown heartbeat field', '{"opamp": {"heartbeat": {"fastSeconds": 5}}}', /^opamp\.heartbeat: .*"fastSeconds"/],
    ['a telemetry endpoint that is not http(s)', '{"ownMetrics": {"endpoint": "grpc://m:4317"}}', /^ownMetrics\.endpoint: must be an http:\/\/ or https:\/\/ URL$/],
    ['a telemetry endpoint that is not a URL', '{"ownLogs": {"endpoint": "logs.example.com"}}', /^ownLogs\.endpoint: must be an http:\/\/ or https:\/\/ URL$/],
    ['a telemetry destination without endpoint', '{"ownTraces": {"headers": {}}}', /^ownTraces\.endpoint: /],
    ['an other connection without endpoint', '{"otherConnections": {"a": {"endpoint": ""}}}', /^otherConnections\.a\.endpoint: must name the destination$/],
    ['a certificate reference with a slash', '{"ownMetrics": {"endpoint": "https://m/v1/metrics", "certificate": "certs/client"}}', /^ownMetrics\.certificate: a certificate is a name/],
    ['an empty Secrets Manager id', '{"opamp": {"certificate": "secretsmanager:"}}', /^opamp\.certificate: a certificate is a name/],
    ['an empty file directory', '{"opamp": {"certificate": "file:"}}', /^opamp\.certificate: a certificate is a name/],
    ['a TLS caPem without a PEM certificate', '{"opamp": {"tls": {"caPem": "MIIB..."}}}', /^opamp\.tls\.caPem: must hold PEM certificates$/],
    ['a TLS version that does not exist', '{"opamp": {"tls": {"minVersion": "1.4"}}}', /^opamp\.tls\.minVersion: /],
    ['a TLS version given as a number', '{"opamp": {"tls": {"maxVersion": 1.3}}}', /^opamp\.tls\.maxVersion: /],
    ['an empty cipher suite', '{"opamp": {"tls": {"cipherSuites": [""]}}}', /^opamp\.tls\.cipherSuites\.0: /],
    ['an unknown TLS field', '{"opamp": {"tls": {"verify": false}}}', /^opamp\.tls: .*"verify"/],
    ['a socks4 proxy', '{"opamp": {"proxy": {"url": "socks4://p:1080"}}}', /^opamp\.proxy\.url: must be an http:\/\/, https:\/\/ or socks5:\/\/ URL$/],
    ['a header value that is not text', '{"ownMetrics": {"endpoint": "https://m/v1/metrics", "headers": {"x-a": 1}}}', /^ownMetrics\.headers\.x-a: /],
    ['a header value over 8 KiB', `{"ownMetrics": {"endpoint": "https://m/v1/metrics", "headers": {"x-a": "${'v'.repeat(8193)}"}}}`, /^ownMetrics\.headers\.x-a: /],
    ['an other setting that is not text', '{"otherConnections": {"a": {"endpoint": "a:1", "otherSettings": {"port": 1}}}}', /^otherConnections\.a\.otherSettings\.port: /],
  ])('rejects %s with one readable line naming the field', (_name, text, message) => {
    // Act
    const error = rejection(text);

    // Assess
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('\n');
  });

  it('throws a rejected request the HTTP edge can answer: invalid, invalid-settings', () => {
    // Act
    const error = rejection('{}');

    // Assess
    expect(error).toBeInstanceOf(RejectedRequestError);
    expect(error.name).toBe('SettingsFileError');
    expect(error.kind).toBe('invalid');
    expect(error.code).toBe('invalid-settings');
  });

  it('reports every problem of a document on its one line', () => {
    // Act
    const error = rejection('{"opamp": {"token": "a b"}, "ownLogs": {"endpoint": "ftp://l"}}');

    // Assess
    expect(error.message).toMatch(/opamp\.token: must be an agent token name/);
    expect(error.message).toMatch(/ownLogs\.endpoint: must be an http/);
    expect(error.message.split('; ')).toHaveLength(2);
  });

  it('rejects a header name that is not an HTTP token with some message that names the header', () => {
    // Act
    const error = rejection('{"ownMetrics": {"endpoint": "https://m/v1/metrics", "headers": {"x api key": "k"}}}');

    // Assess
    expect(error.message).toMatch(/^ownMetrics\.headers\.x api key: /);
  });

  // The key schemas' explanations reach the operator, not just "Invalid key in record".
  it.each<[string, string, RegExp]>([
    ['a header name with a space', '{"ownMetrics": {"endpoint": "https://m/v1/metrics", "headers": {"x api key": "k"}}}', /header names are HTTP tokens/],
    ['an other connection name with a slash', '{"otherConnections": {"a/b": {"endpoint": "a:1"}}}', /connection names are letters, digits/],
  ])('explains why it rejects %s', (_name, text, explanation) => {
    // Act
    const error = rejection(text);

    // Assess
    expect(error.message).toMatch(explanation);
  });

  it('accepts exactly the documents whose every header name is an HTTP token', () => {
    const token = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), fc.string({ maxLength: 6 }), { maxKeys: 3 }), (headers) => {
        // Prepare
        const document = { ownLogs: { endpoint: 'https://l.example.com/v1/logs', headers } };

        // Act
        let accepted: boolean;
        try {
          validateSettings(document);
          accepted = true;
        } catch (error) {
          expect(error).toBeInstanceOf(SettingsFileError);
          accepted = false;
        }

        // Assess
        expect(accepted).toBe(Object.keys(headers).every((name) => token.test(name)));
      }),
      { numRuns: 200 },
    );
  });
});

describe('validateSettings', () => {
  it('validates a parsed value as parseSettings validates its text', () => {
    // Prepare
    const document = { opamp: { heartbeat: { idleSeconds: 120 } }, ownTraces: { endpoint: 'https://t.example.com/v1/traces' } };

    // Act
    const spec = validateSettings(document);

    // Assess
    expect(spec).toEqual(document);
    expect(() => validateSettings({ opamp: { heartbeat: { idleSeconds: 0 } } })).toThrow(SettingsFileError);
    expect(() => validateSettings(undefined)).toThrow(SettingsFileError);
  });
});

describe('parseCertificateRef', () => {
  it.each<[string, CertificateRef | undefined]>([
    ['client', { source: 'bucket', name: 'client' }],
    ['opamp-client.v2_1', { source: 'bucket', name: 'opamp-client.v2_1' }],
    ['bucket:client', { source: 'bucket', name: 'client' }],
    ['secretsmanager:prod/opamp/client', { source: 'secretsmanager', secretId: 'prod/opamp/client' }],
    ['secretsmanager:arn:aws:secretsmanager:eu-west-1:123456789012:secret:opamp-AbCdEf', { source: 'secretsmanager', secretId: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:opamp-AbCdEf' }],
    ['file:/etc/opamp/certs', { source: 'file', directory: '/etc/opamp/certs' }],
    ['file:certs', { source: 'file', directory: 'certs' }],
    ['', undefined],
    ['bucket:', undefined],
    ['bucket:a/b', undefined],
    ['certs/client', undefined],
    ['.hidden', undefined],
    [`${'a'.repeat(129)}`, undefined],
    ['secretsmanager:', undefined],
    ['secretsmanager:has space', undefined],
    [`secretsmanager:${'s'.repeat(2049)}`, undefined],
    ['file:', undefined],
  ])('reads %j as %j', (ref, expected) => {
    // Act
    const parsed = parseCertificateRef(ref);

    // Assess
    expect(parsed).toEqual(expected);
    expect(isCertificateRef(ref)).toBe(expected !== undefined);
  });
});
