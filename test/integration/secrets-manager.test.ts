import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clientSettings } from '../../functions/adapters/client-settings.js';
import { SecretsManagerReader } from '../../functions/adapters/secrets-manager/secret-reader.js';
import { EMPTY_FLEET } from '../../functions/core/fleet.js';
import type { FleetState } from '../../functions/core/fleet.js';
import { certificateFingerprint } from '../../functions/core/pem.js';
import { NO_TELEMETRY } from '../../functions/observability/telemetry.js';
import { CertificateResolver } from '../../functions/service/certificate-resolver.js';
import { SecretsManagerEndpoint } from '../support/secrets-manager-endpoint.js';
import { createTestCa } from '../support/x509-fixtures.js';
import type { TestCa } from '../support/x509-fixtures.js';

const REFRESH_MS = 60_000;

describe('certificate material from Secrets Manager', () => {
  const endpoint = new SecretsManagerEndpoint();
  let ca: TestCa;
  let other: TestCa;
  let now = 1_000_000;
  let resolver: CertificateResolver;
  const fleet: FleetState = { ...EMPTY_FLEET, settings: new Map([['default', { opamp: { certificate: 'secretsmanager:opamp/client' } }]]) };

  beforeAll(async () => {
    await endpoint.start();
    [ca, other] = await Promise.all([createTestCa({ subject: 'CN=one' }), createTestCa({ subject: 'CN=two' })]);
  });
  afterAll(async () => {
    await endpoint.stop();
  });
  beforeEach(() => {
    endpoint.clear();
    const settings = clientSettings({ secretsManagerEndpoint: endpoint.url, emulated: true }).secretsManager;
    // One attempt: an injected outage should not be retried by the SDK behind the test's back.
    resolver = new CertificateResolver({
      secrets: new SecretsManagerReader({ ...settings, maxAttempts: 1 }),
      now: () => now,
      refreshMs: REFRESH_MS,
      telemetry: NO_TELEMETRY,
    });
  });

  it('reads {cert, key, ca} from the secret through the SDK, and identifies it by the certificate fingerprint', async () => {
    endpoint.put('opamp/client', JSON.stringify({ cert: ca.certPem, key: ca.keyPem, ca: ca.certPem }));

    const lookup = await resolver.lookup(fleet);

    expect(lookup('secretsmanager:opamp/client')).toEqual({ cert: ca.certPem, key: ca.keyPem, ca: ca.certPem, fingerprint: certificateFingerprint(ca.certPem), notAfter: expect.any(Number) });
    expect(endpoint.requests).toEqual([{ target: 'secretsmanager.GetSecretValue', secretId: 'opamp/client', versionStage: 'AWSCURRENT' }]);
  });

  it('reads the secret again only after the refresh period, and picks up a rotated certificate then', async () => {
    endpoint.put('opamp/client', JSON.stringify({ cert: ca.certPem, key: ca.keyPem }));
    await resolver.lookup(fleet);
    endpoint.put('opamp/client', JSON.stringify({ cert: other.certPem, key: other.keyPem }));

    now += REFRESH_MS - 1;
    const cached = (await resolver.lookup(fleet))('secretsmanager:opamp/client');
    now += 1;
    const refreshed = (await resolver.lookup(fleet))('secretsmanager:opamp/client');

    expect(cached).toMatchObject({ fingerprint: certificateFingerprint(ca.certPem), notAfter: expect.any(Number) });
    expect(refreshed).toMatchObject({ fingerprint: certificateFingerprint(other.certPem) });
    expect(endpoint.requests).toHaveLength(2);
  });

  it('keeps the last good material through an outage, and reports a first read that fails as temporary', async () => {
    endpoint.put('opamp/client', JSON.stringify({ cert: ca.certPem, key: ca.keyPem }));
    await resolver.lookup(fleet);
    endpoint.failing = true;
    now += REFRESH_MS;

    const during = (await resolver.lookup(fleet))('secretsmanager:opamp/client');
    const fresh = new CertificateResolver({
      secrets: new SecretsManagerReader({ ...clientSettings({ secretsManagerEndpoint: endpoint.url, emulated: true }).secretsManager, maxAttempts: 1 }),
      now: () => now,
      refreshMs: REFRESH_MS,
      telemetry: NO_TELEMETRY,
    });
    const neverRead = (await fresh.lookup(fleet))('secretsmanager:opamp/client');

    expect(during).toMatchObject({ fingerprint: certificateFingerprint(ca.certPem), notAfter: expect.any(Number) });
    expect(neverRead).toMatchObject({ temporary: true });
    expect((neverRead as { error: string }).error).toContain('opamp/client');
  });

  it('says what is wrong with a secret that is not certificate material, and that it is not temporary', async () => {
    endpoint.put('opamp/client', 'not json');
    const notJson = (await resolver.lookup(fleet))('secretsmanager:opamp/client');
    endpoint.put('opamp/client', JSON.stringify({ cert: ca.certPem, key: other.keyPem }));
    now += REFRESH_MS;
    const mismatched = (await resolver.lookup(fleet))('secretsmanager:opamp/client');
    const missing = await resolver.resolve('secretsmanager:opamp/absent', fleet);

    expect(notJson).toEqual({ error: expect.stringContaining('is not JSON') });
    expect(mismatched).toMatchObject({ error: expect.stringMatching(/key/i) });
    expect(mismatched).not.toHaveProperty('temporary');
    expect(missing).toMatchObject({ temporary: true, error: expect.stringContaining("can't find") });
  });
});
