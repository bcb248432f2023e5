import { describe, expect, it } from 'vitest';
import type { ConnectionContext, ConnectionSettingsSpec } from '../../../functions/core/connection-settings.js';
import { settingsOffers } from '../../../functions/core/connection-settings.js';
import { literalCredentialWarnings, pickSecretValue, secretRefId, secretRefsOf } from '../../../functions/core/secret-refs.js';
import type { SecretLookup, SecretRef } from '../../../functions/core/secret-refs.js';
import { SettingsFileError, validateSettings } from '../../../functions/core/settings-file.js';
import { connectionContext, desired, headerEntries } from './settings-fixtures.js';

const METRICS = 'https://otlp.example.com/v1/metrics';
const byRef = (ref: SecretRef) => secretRefId(ref);

function withSecrets(values: Record<string, SecretLookup>): ConnectionContext {
  return { ...connectionContext(), secret: (ref) => values[byRef(ref)] };
}
const spec = (headers: Record<string, unknown>): ConnectionSettingsSpec => validateSettings({ ownMetrics: { endpoint: METRICS, headers } });

describe('secret references in settings documents', () => {
  it("are accepted wherever a credential goes: headers, proxy connect headers, other connections' settings", () => {
    const document = validateSettings({
      opamp: { headers: { 'x-tenant': { env: 'OPAMP_SECRET_TENANT' } }, proxy: { url: 'http://proxy:3128', connectHeaders: { 'proxy-authorization': { file: '/run/secrets/proxy' } } } },
      ownMetrics: { endpoint: METRICS, headers: { 'x-api-key': { secret: 'otel/keys', key: 'ingest' } } },
      otherConnections: { archive: { endpoint: 'host:1', otherSettings: { password: { secret: 'archive' } } } },
    });

    expect(secretRefsOf(document).map(byRef).sort()).toEqual(['env:OPAMP_SECRET_TENANT', 'file:/run/secrets/proxy', 'secret:archive', 'secret:otel/keys#ingest']);
  });

  it.each([
    [{ secret: '../other-stack/key' }, /climb out/],
    [{ secret: '/absolute' }, /climb out/],
    [{ secret: 'has space' }, /secret name/],
    [{ env: 'AWS_SECRET_ACCESS_KEY' }, /OPAMP_SECRET_/],
    [{ secret: 'k', version: 'v1' }, /version/],
    [{ vault: 'k' }, /headers/],
  ])('refuses %j with a reason', (ref, reason) => {
    expect(() => spec({ 'x-api-key': ref })).toThrow(SettingsFileError);
    expect(() => spec({ 'x-api-key': ref })).toThrow(reason);
  });

  it('picks a JSON field out of a secret, and says which one is missing', () => {
    expect(pickSecretValue('plain', undefined, 'opamp/k')).toBe('plain');
    expect(pickSecretValue('{"ingest":"abc"}', 'ingest', 'opamp/k')).toBe('abc');
    expect(() => pickSecretValue('{"other":"abc"}', 'ingest', 'opamp/k')).toThrow('secret opamp/k has no string field "ingest"');
    expect(() => pickSecretValue('not json', 'ingest', 'opamp/k')).toThrow(/not JSON/);
  });

  it('warns about literal credentials, and only about those', () => {
    const document = validateSettings({
      ownMetrics: { endpoint: METRICS, headers: { 'x-api-key': 'abc', 'x-tenant': 'blue', authorization: 'Basic dXNlcg==', 'x-ref': { secret: 'k' } } },
      otherConnections: { archive: { endpoint: 'host:1', otherSettings: { region: 'eu', password: 'hunter2' } } },
    });

    expect(literalCredentialWarnings(document)).toEqual([
      expect.stringMatching(/^ownMetrics\.headers\.x-api-key holds a literal credential/),
      expect.stringMatching(/^ownMetrics\.headers\.authorization holds a literal credential/),
      expect.stringMatching(/^otherConnections\.archive\.otherSettings\.password holds a literal credential/),
    ]);
  });
});

describe('settings with secret references', () => {
  const document = spec({ 'x-api-key': { secret: 'otel/api-key' }, 'x-tenant': 'blue' });
  const key = 'secret:otel/api-key';

  it("carry the secret's value in the offer, and nowhere else", () => {
    const settings = desired({ spec: document, context: withSecrets({ [key]: { value: 'k-123', version: 'v1' } }) });
    const offer = settingsOffers(settings, ['ownMetrics']);

    expect(headerEntries(offer.ownMetrics?.headers)).toEqual([
      ['x-api-key', 'k-123'],
      ['x-tenant', 'blue'],
    ]);
    expect(settings.problems).toEqual([]);
    expect(JSON.stringify({ hash: settings.hash, base: settings.baseHash, parts: settings.parts.map((p) => [p.hash, p.baseHash]) })).not.toContain('k-123');
  });

  it("hash by the secret's version: a new version is a new offer, the same version the same one", () => {
    const v1 = desired({ spec: document, context: withSecrets({ [key]: { value: 'k-123', version: 'v1' } }) });
    const v2 = desired({ spec: document, context: withSecrets({ [key]: { value: 'k-456', version: 'v2' } }) });
    const sameVersion = desired({ spec: document, context: withSecrets({ [key]: { value: 'other', version: 'v1' } }) });

    expect(v2.hash).not.toBe(v1.hash);
    expect(sameVersion.hash).toBe(v1.hash);
  });

  it('wait, offering nothing, while a secret has never been read', () => {
    const unread = desired({ spec: document, context: withSecrets({}) });
    const failing = desired({ spec: document, context: withSecrets({ [key]: { error: 'connect ETIMEDOUT', temporary: true } }) });

    expect(unread.deferred).toBe(true);
    expect(failing.deferred).toBe(true);
    expect(failing.problems).toEqual(['ownMetrics.headers.x-api-key: secret secret:otel/api-key: connect ETIMEDOUT']);
  });

  it('withhold only the part whose secret is wrong, never half-built', () => {
    const both = validateSettings({
      ownMetrics: { endpoint: METRICS, headers: { 'x-api-key': { secret: 'otel/api-key', key: 'missing' } } },
      ownLogs: { endpoint: 'https://otlp.example.com/v1/logs' },
    });
    const settings = desired({ spec: both, context: withSecrets({ 'secret:otel/api-key#missing': { error: 'secret opamp/otel/api-key has no string field "missing"' } }) });

    expect(settings.parts.map((p) => p.key)).not.toContain('ownMetrics');
    expect(settings.parts.map((p) => p.key)).toContain('ownLogs');
    expect(settings.deferred).toBe(false);
    expect(settings.problems[0]).toMatch(/has no string field "missing"/);
  });

  it('offer the last good value of a secret that cannot be read again, and say so', () => {
    const settings = desired({ spec: document, context: withSecrets({ [key]: { value: 'k-123', version: 'v1', stale: 'ThrottlingException' } }) });
    const offer = settingsOffers(settings, ['ownMetrics']);

    expect(headerEntries(offer.ownMetrics?.headers)).toContainEqual(['x-api-key', 'k-123']);
    expect(settings.problems).toEqual([expect.stringMatching(/could not be read again \(ThrottlingException\); its last value is offered/)]);
  });

  it('keep the hashes of documents without references as they were (literal values hash as before)', () => {
    const literal = spec({ 'x-tenant': 'blue' });
    expect(desired({ spec: literal, context: withSecrets({}) }).hash).toBe(desired({ spec: literal }).hash);
  });
});
