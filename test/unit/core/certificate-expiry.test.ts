import { describe, expect, it } from 'vitest';
import { DAY_MS, expiringWithin, heldCertificates, renewalDue } from '../../../functions/core/certificate-expiry.js';
import { validateSettings } from '../../../functions/core/settings-file.js';
import { connectionContext, desired, issuedCertificate, resolvedCertificate, STEERABLE } from './settings-fixtures.js';
import { T0 } from './fixtures.js';

const METRICS = validateSettings({ ownMetrics: { endpoint: 'https://otlp.example.com/v1/metrics', certificate: 'client' } });

describe('certificates agents hold', () => {
  const issued = { ...issuedCertificate('01', T0), notAfter: T0 + 30 * DAY_MS, csrPem: '-----BEGIN CERTIFICATE REQUEST-----' };
  const offered = { part: 'ownMetrics', source: 'client', fingerprint: 'ab', notAfter: T0 + 10 * DAY_MS };

  it('are the issued one and those offered, and those within the window are expiring', () => {
    const record = { issuedCertificate: issued, heldCertificates: [offered] };

    expect(heldCertificates(record).map((c) => c.source)).toEqual(['issued', 'client']);
    expect(expiringWithin(record, T0, 14 * DAY_MS)).toEqual([offered]);
    expect(expiringWithin(record, T0 + 20 * DAY_MS, 14 * DAY_MS).map((c) => c.source)).toEqual(['issued', 'client']);
    expect(expiringWithin(record, T0, 5 * DAY_MS)).toEqual([]);
  });

  it('renew an issued certificate once the given share of its lifetime passed, and only with its CSR at hand', () => {
    expect(renewalDue(issued, T0 + 20 * DAY_MS - 1, 2 / 3)).toBe(false);
    expect(renewalDue(issued, T0 + 20 * DAY_MS, 2 / 3)).toBe(true);
    expect(renewalDue({ ...issued, csrPem: undefined }, T0 + 25 * DAY_MS, 2 / 3)).toBe(false);
    expect(renewalDue(issued, T0 + 30 * DAY_MS, 2 / 3)).toBe(false);
  });

  it('an offered certificate is tracked with its expiry, and never offered once expired', () => {
    const certificate = { ...resolvedCertificate('client'), notAfter: T0 + DAY_MS };
    const before = desired({ spec: METRICS, context: { ...connectionContext({ certificates: { client: certificate } }), now: T0 } });
    const after = desired({ spec: METRICS, context: { ...connectionContext({ certificates: { client: certificate } }), now: T0 + DAY_MS } });

    expect(before.certificates).toEqual([{ part: 'ownMetrics', source: 'client', fingerprint: certificate.fingerprint, notAfter: T0 + DAY_MS }]);
    expect(after.parts.map((p) => p.key)).not.toContain('ownMetrics');
    expect(after.problems).toEqual([`ownMetrics: certificate "client" expired at ${new Date(T0 + DAY_MS).toISOString()}`]);
  });

  it('an expired issued certificate is not offered', () => {
    const expired = issuedCertificate('02', T0 - 40 * DAY_MS);
    const settings = desired({ capabilities: STEERABLE, issued: expired, context: { ...connectionContext(), now: T0 } });

    expect(settings.parts.map((p) => p.key)).not.toContain('opamp');
    expect(settings.problems[0]).toMatch(/^opamp: the certificate issued to the agent expired at /);
  });
});
