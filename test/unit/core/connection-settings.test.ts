import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assumeApplied, awaitedInterval, noteSettingsStatus, recordSettingsOffer, settingsOffers, settingsRolloutState, settingsToOffer } from '../../../functions/core/connection-settings.js';
import type { AppliedSettings, ConnectionSettingsSpec, DesiredSettings, SettingsOffer, SettingsRolloutState } from '../../../functions/core/connection-settings.js';
import type { ReportedApplyStatus } from '../../../functions/core/agent-record.js';
import { MINUTE, SECOND, T0 } from './fixtures.js';
import {
  ACCEPTS_OPAMP,
  ACCEPTS_OTHER,
  APPLIED,
  APPLYING,
  ENDPOINT,
  FAILED,
  HEARTBEAT,
  OWN_LOGS,
  OWN_METRICS,
  OWN_TRACES,
  PRESENTED,
  REPORTS_HEARTBEAT,
  REPORTS_SETTINGS,
  REPORTS_STATUS,
  SETTINGS_POLICY,
  STEERABLE,
  TAKES_ALL,
  connectionContext,
  desired,
  headerEntries,
  issuedCertificate,
  partKeys,
  reportedStatus,
  resolvedCertificate,
} from './settings-fixtures.js';
import type { ContextInit, DesiredInit } from './settings-fixtures.js';

const RESEND = SETTINGS_POLICY.resendAfterMs;
const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);

const OPAMP_CERT = resolvedCertificate('opamp-client');
const METRICS_CERT = resolvedCertificate('metrics-client', { key: false });

/** A document that says something in every section. */
const FULL: ConnectionSettingsSpec = {
  opamp: {
    headers: { 'x-tenant': 'acme', 'x-region': 'eu' },
    certificate: 'opamp-client',
    tls: { minVersion: '1.2', includeSystemCaCertsPool: true },
    proxy: { url: 'http://proxy.internal:3128', connectHeaders: { 'proxy-authorization': 'Basic cHJveHk=' } },
  },
  ownMetrics: { endpoint: 'https://otlp.example.com/v1/metrics', headers: { 'x-api-key': 'k1' }, certificate: 'metrics-client' },
  ownTraces: { endpoint: 'https://otlp.example.com/v1/traces' },
  ownLogs: { endpoint: 'https://otlp.example.com/v1/logs', tls: { insecureSkipVerify: true } },
  otherConnections: {
    archive: { endpoint: 'https://archive.example.com', otherSettings: { bucket: 'logs', region: 'eu-west-1' } },
    audit: { endpoint: 'audit.example.com:4317', headers: { 'x-audit': 'on' } },
  },
};

const FULL_CONTEXT: ContextInit = { certificates: { 'opamp-client': OPAMP_CERT, 'metrics-client': METRICS_CERT } };

function full(overrides: DesiredInit = {}, context: ContextInit = {}): DesiredSettings {
  return desired({ spec: FULL, context: connectionContext({ ...FULL_CONTEXT, ...context }), ...overrides });
}

/** The same value with every object's keys in reverse order (arrays keep theirs: their order means something). */
function reordered<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(reordered) as T;
  return Object.fromEntries(
    Object.entries(value)
      .reverse()
      .map(([k, v]) => [k, reordered(v)]),
  ) as T;
}

function without<K extends keyof ConnectionSettingsSpec>(spec: ConnectionSettingsSpec, key: K): ConnectionSettingsSpec {
  const { [key]: _dropped, ...rest } = spec;
  return rest;
}

describe('desiredSettings', () => {
  describe('hash', () => {
    it('is base64 of 32 bytes, and equal for equal input on every call', () => {
      // Act
      const first = full();
      const second = full();

      // Assess
      expect(Buffer.from(first.hash, 'base64')).toHaveLength(32);
      expect(Buffer.from(first.hash, 'base64').toString('base64')).toBe(first.hash);
      expect(second.hash).toBe(first.hash);
      expect(second.baseHash).toBe(first.baseHash);
    });

    it('does not depend on the order of object keys or header maps anywhere in the document', () => {
      const headerMap = fc.dictionary(fc.constantFrom('x-a', 'x-b', 'x-tenant', 'accept', 'x-api-key'), fc.string({ maxLength: 8 }), { maxKeys: 4 });
      const destination = fc.record(
        {
          endpoint: fc.constantFrom('https://a.example.com/v1/metrics', 'https://b.example.com/v1/metrics'),
          headers: headerMap,
          tls: fc.record(
            { minVersion: fc.constantFrom('1.2', '1.3'), insecureSkipVerify: fc.boolean(), cipherSuites: fc.array(fc.constantFrom('A', 'B', 'C'), { maxLength: 3 }) },
            { requiredKeys: [] },
          ),
          proxy: fc.record({ url: fc.constant('http://proxy:3128'), connectHeaders: headerMap }, { requiredKeys: ['url'] }),
        },
        { requiredKeys: ['endpoint'] },
      );
      const spec: fc.Arbitrary<ConnectionSettingsSpec> = fc.record(
        {
          opamp: fc.record({ headers: headerMap, tls: fc.record({ minVersion: fc.constantFrom('1.2', '1.3'), includeSystemCaCertsPool: fc.boolean() }) }, { requiredKeys: [] }),
          ownMetrics: destination,
          ownLogs: destination,
          otherConnections: fc.dictionary(
            fc.constantFrom('archive', 'audit', 'backup'),
            fc.record({
              endpoint: fc.constant('host:1'),
              otherSettings: fc.dictionary(fc.constantFrom('bucket', 'region', 'mode'), fc.string({ maxLength: 4 }), { maxKeys: 3 }),
            }),
            { maxKeys: 3 },
          ),
        },
        { requiredKeys: [] },
      );

      fc.assert(
        fc.property(spec, fc.boolean(), (document, pending) => {
          // Act
          const straight = desired({ spec: document, pending });
          const reversed = desired({ spec: reordered(document), pending });

          // Assess
          expect(reversed.hash).toBe(straight.hash);
          expect(reversed.baseHash).toBe(straight.baseHash);
          const keys = partKeys(straight);
          expect(settingsOffers(reversed, keys)).toEqual(settingsOffers(straight, keys));
        }),
        { numRuns: 100 },
      );
    });

    it.each<[string, () => DesiredSettings, 'both' | 'hash only']>([
      ['the server URL', () => full({}, { endpoint: 'https://opamp2.example.com/v1/opamp' }), 'both'],
      ['the name of the token the agent presented', () => full({}, { presented: { header: PRESENTED.header, tokenName: 'fleet-b' } }), 'both'],
      [
        'an opamp token that replaces the presented credential',
        () => desired({ spec: { ...FULL, opamp: { ...FULL.opamp, token: 'fleet-b' } }, context: connectionContext({ ...FULL_CONTEXT, tokens: { 'fleet-b': 'secret-of-fleet-b' } }) }),
        'both',
      ],
      [
        'a declared opamp header value',
        () => desired({ spec: { ...FULL, opamp: { ...FULL.opamp, headers: { 'x-tenant': 'other', 'x-region': 'eu' } } }, context: connectionContext(FULL_CONTEXT) }),
        'both',
      ],
      ['an added opamp header', () => desired({ spec: { ...FULL, opamp: { ...FULL.opamp, headers: { ...FULL.opamp!.headers, 'x-more': '1' } } }, context: connectionContext(FULL_CONTEXT) }), 'both'],
      ['the fingerprint of the opamp certificate', () => full({}, { certificates: { ...FULL_CONTEXT.certificates, 'opamp-client': resolvedCertificate('renewed-opamp-client') } }), 'both'],
      ['an issued certificate', () => full({ issued: issuedCertificate('02') }), 'both'],
      [
        'the opamp TLS settings',
        () => desired({ spec: { ...FULL, opamp: { ...FULL.opamp, tls: { minVersion: '1.3', includeSystemCaCertsPool: true } } }, context: connectionContext(FULL_CONTEXT) }),
        'both',
      ],
      ['the opamp proxy', () => desired({ spec: { ...FULL, opamp: { ...FULL.opamp, proxy: { url: 'http://proxy2.internal:3128' } } }, context: connectionContext(FULL_CONTEXT) }), 'both'],
      ['the heartbeat interval (pending instead of idle)', () => full({ pending: true }), 'hash only'],
      ['the heartbeat interval (another idle interval)', () => full({ heartbeat: { ...HEARTBEAT, idleSeconds: 120 } }), 'hash only'],
      [
        'the own metrics endpoint',
        () => desired({ spec: { ...FULL, ownMetrics: { ...FULL.ownMetrics!, endpoint: 'https://otlp2.example.com/v1/metrics' } }, context: connectionContext(FULL_CONTEXT) }),
        'both',
      ],
      ['an own traces header', () => desired({ spec: { ...FULL, ownTraces: { ...FULL.ownTraces!, headers: { 'x-api-key': 'k2' } } }, context: connectionContext(FULL_CONTEXT) }), 'both'],
      ['the own logs TLS settings', () => desired({ spec: { ...FULL, ownLogs: { ...FULL.ownLogs!, tls: { insecureSkipVerify: false } } }, context: connectionContext(FULL_CONTEXT) }), 'both'],
      ['a removed own logs destination', () => desired({ spec: without(FULL, 'ownLogs'), context: connectionContext(FULL_CONTEXT) }), 'both'],
      ['the own metrics certificate fingerprint', () => full({}, { certificates: { ...FULL_CONTEXT.certificates, 'metrics-client': resolvedCertificate('renewed-metrics-client') } }), 'both'],
      [
        'an other connection setting',
        () =>
          desired({
            spec: { ...FULL, otherConnections: { ...FULL.otherConnections, archive: { ...FULL.otherConnections!.archive!, otherSettings: { bucket: 'logs2', region: 'eu-west-1' } } } },
            context: connectionContext(FULL_CONTEXT),
          }),
        'both',
      ],
      [
        'an added other connection',
        () => desired({ spec: { ...FULL, otherConnections: { ...FULL.otherConnections, backup: { endpoint: 'backup:1' } } }, context: connectionContext(FULL_CONTEXT) }),
        'both',
      ],
      [
        'the endpoint of an other connection',
        () =>
          desired({
            spec: { ...FULL, otherConnections: { ...FULL.otherConnections, audit: { endpoint: 'audit2.example.com:4317', headers: { 'x-audit': 'on' } } } },
            context: connectionContext(FULL_CONTEXT),
          }),
        'both',
      ],
    ])('changes with %s', (_name, changed, which) => {
      // Prepare
      const before = full();

      // Act
      const after = changed();

      // Assess
      expect(after.problems).toEqual([]);
      expect(after.hash).not.toBe(before.hash);
      if (which === 'both') expect(after.baseHash).not.toBe(before.baseHash);
      else expect(after.baseHash).toBe(before.baseHash);
    });

    it('holds a token by name: another value of the same deliverable token gives the same hash, and is what is sent', () => {
      // Prepare
      const spec: ConnectionSettingsSpec = { opamp: { token: 'fleet-2026' } };

      // Act
      const one = desired({ spec, context: connectionContext({ tokens: { 'fleet-2026': 'value-one' } }) });
      const two = desired({ spec, context: connectionContext({ tokens: { 'fleet-2026': 'value-two' } }) });

      // Assess
      expect(two.hash).toBe(one.hash);
      const header = (d: DesiredSettings) => Object.fromEntries(headerEntries(settingsOffers(d, ['opamp']).opamp?.headers)).Authorization;
      expect(header(one)).toBe('Bearer value-one');
      expect(header(two)).toBe('Bearer value-two');
    });

    it('holds a presented credential by its token name when it has one', () => {
      // Act
      const one = desired({ context: connectionContext({ presented: { header: 'Bearer one', tokenName: 'fleet-a' } }) });
      const two = desired({ context: connectionContext({ presented: { header: 'Bearer two', tokenName: 'fleet-a' } }) });

      // Assess
      expect(two.hash).toBe(one.hash);
    });

    it('holds an unnamed presented header by its content: another header gives another hash, the same header the same', () => {
      // Act
      const one = desired({ context: connectionContext({ presented: { header: 'Basic dXNlcjpvbmU=' } }) });
      const same = desired({ context: connectionContext({ presented: { header: 'Basic dXNlcjpvbmU=' } }) });
      const other = desired({ context: connectionContext({ presented: { header: 'Basic dXNlcjp0d28=' } }) });
      const named = desired({ context: connectionContext({ presented: { header: 'Basic dXNlcjpvbmU=', tokenName: 'fleet-a' } }) });

      // Assess
      expect(same.hash).toBe(one.hash);
      expect(other.hash).not.toBe(one.hash);
      expect(named.hash).not.toBe(one.hash);
    });

    it('holds a certificate by its fingerprint: other key or CA material under the same fingerprint gives the same hash', () => {
      // Prepare
      const spec: ConnectionSettingsSpec = { opamp: { certificate: 'client' } };
      const original = resolvedCertificate('client');
      const sameCertOtherKey = { ...original, key: resolvedCertificate('client', { keyText: 'another key' }).key, ca: undefined };

      // Act
      const one = desired({ spec, context: connectionContext({ certificates: { client: original } }) });
      const two = desired({ spec, context: connectionContext({ certificates: { client: sameCertOtherKey } }) });

      // Assess
      expect(two.hash).toBe(one.hash);
    });

    it('gives baseHash without the heartbeat interval: the same pending or idle, and equal to what desiredSettings reports before the interval is known', () => {
      // Act
      const idle = full({ pending: false });
      const pending = full({ pending: true });

      // Assess
      expect(idle.heartbeatSeconds).toBe(60);
      expect(pending.heartbeatSeconds).toBe(15);
      expect(pending.hash).not.toBe(idle.hash);
      expect(pending.baseHash).toBe(idle.baseHash);
    });
  });

  describe('gating by capabilities', () => {
    it.each<[string, bigint, keyof ConnectionSettingsSpec, string[]]>([
      ['opamp without AcceptsOpAMPConnectionSettings', ACCEPTS_OPAMP, 'opamp', ['opamp']],
      ['ownMetrics without ReportsOwnMetrics', OWN_METRICS, 'ownMetrics', ['ownMetrics']],
      ['ownTraces without ReportsOwnTraces', OWN_TRACES, 'ownTraces', ['ownTraces']],
      ['ownLogs without ReportsOwnLogs', OWN_LOGS, 'ownLogs', ['ownLogs']],
      ['other connections without AcceptsOtherConnectionSettings', ACCEPTS_OTHER, 'otherConnections', ['other:archive', 'other:audit']],
    ])('leaves out %s, and the part does not enter the hash', (_name, capability, section, keys) => {
      // Prepare
      const capabilities = TAKES_ALL & ~capability;

      // Act
      const gated = full({ capabilities });
      const withoutSection = desired({ capabilities, spec: without(FULL, section), context: connectionContext(FULL_CONTEXT) });
      const able = full();

      // Assess
      for (const key of keys) {
        expect(partKeys(gated)).not.toContain(key);
        expect(partKeys(able)).toContain(key);
      }
      expect(gated.hash).toBe(withoutSection.hash);
      expect(gated.baseHash).toBe(withoutSection.baseHash);
      expect(gated.hash).not.toBe(able.hash);
    });

    it('gives an agent that takes everything every part', () => {
      // Act
      const settings = full();

      // Assess
      expect(partKeys(settings)).toEqual(['opamp', 'other:archive', 'other:audit', 'ownLogs', 'ownMetrics', 'ownTraces']);
      expect(settings.problems).toEqual([]);
      expect(settings.deferred).toBe(false);
    });

    it('gives an agent that takes nothing no part, whatever the document says', () => {
      // Act
      const settings = full({ capabilities: REPORTS_STATUS | REPORTS_HEARTBEAT | REPORTS_SETTINGS, issued: issuedCertificate() });

      // Assess
      expect(settings.parts).toEqual([]);
      expect(settings.heartbeatSeconds).toBeUndefined();
    });
  });

  describe('the opamp part', () => {
    it.each<[string, DesiredInit, boolean]>([
      ['a steerable agent with no document (the interval alone)', { capabilities: STEERABLE }, true],
      ['a steerable agent when the server does not steer (idle 0) and nothing else is said', { capabilities: STEERABLE, heartbeat: { idleSeconds: 0, pendingSeconds: 15 } }, false],
      ['an agent without ReportsHeartbeat and no document', { capabilities: STEERABLE & ~REPORTS_HEARTBEAT }, false],
      ['an agent without ReportsHeartbeat and an empty opamp section', { capabilities: STEERABLE & ~REPORTS_HEARTBEAT, spec: { opamp: {} } }, true],
      ['an agent without ReportsHeartbeat and an issued certificate', { capabilities: STEERABLE & ~REPORTS_HEARTBEAT, issued: issuedCertificate() }, true],
      ['a document that steers although the server does not', { capabilities: STEERABLE, heartbeat: { idleSeconds: 0, pendingSeconds: 0 }, spec: { opamp: { heartbeat: { idleSeconds: 30 } } } }, true],
      ['an agent that does not accept it, with a section and a certificate', { capabilities: STEERABLE & ~ACCEPTS_OPAMP, spec: { opamp: {} }, issued: issuedCertificate() }, false],
      ['an agent with other parts only (no opamp section, no heartbeat)', { capabilities: TAKES_ALL & ~REPORTS_HEARTBEAT, spec: { ownLogs: { endpoint: 'https://l.example.com/v1/logs' } } }, false],
    ])('is produced for %s: %s', (_name, init, expected) => {
      // Act
      const settings = desired(init);

      // Assess
      expect(partKeys(settings).includes('opamp')).toBe(expected);
      expect(settings.problems).toEqual([]);
    });

    it('carries the server URL, the presented Authorization header, the declared headers, certificate, TLS, proxy and interval', () => {
      // Act
      const opamp = settingsOffers(full(), ['opamp']).opamp!;

      // Assess
      expect(opamp.destinationEndpoint).toBe(ENDPOINT);
      const headers = headerEntries(opamp.headers);
      expect(Object.fromEntries(headers)).toEqual({ Authorization: PRESENTED.header, 'x-region': 'eu', 'x-tenant': 'acme' });
      expect(headers).toHaveLength(3);
      expect(text(opamp.certificate?.cert)).toBe(OPAMP_CERT.cert);
      expect(text(opamp.certificate?.privateKey)).toBe(OPAMP_CERT.key);
      expect(text(opamp.certificate?.caCert)).toBe(OPAMP_CERT.ca);
      expect(opamp.tls).toMatchObject({ minVersion: '1.2', includeSystemCaCertsPool: true, insecureSkipVerify: false, caPemContents: '' });
      expect(opamp.proxy?.url).toBe('http://proxy.internal:3128');
      expect(headerEntries(opamp.proxy?.connectHeaders)).toEqual([['proxy-authorization', 'Basic cHJveHk=']]);
      expect(opamp.heartbeatIntervalSeconds).toBe(60n);
    });

    it('carries `Bearer <token>` for a deliverable opamp token instead of the presented header', () => {
      // Act
      const settings = desired({ spec: { opamp: { token: 'fleet-b' } }, context: connectionContext({ tokens: { 'fleet-b': 'secret-of-fleet-b' } }) });

      // Assess
      const headers = headerEntries(settingsOffers(settings, ['opamp']).opamp?.headers);
      expect(headers).toEqual([['Authorization', 'Bearer secret-of-fleet-b']]);
    });

    it('carries an issued certificate with its CA and no private key (the agent holds it), in place of a declared one', () => {
      // Prepare
      const issued = issuedCertificate('0a');

      // Act
      const opamp = settingsOffers(full({ issued }), ['opamp']).opamp!;

      // Assess
      expect(text(opamp.certificate?.cert)).toBe(issued.certPem);
      expect(text(opamp.certificate?.caCert)).toBe(issued.caPem);
      expect(opamp.certificate?.privateKey).toHaveLength(0);
    });

    it.each<[string, ConnectionSettingsSpec['opamp'], ContextInit, RegExp]>([
      ['the server does not know its URL', undefined, { endpoint: undefined }, /URL/],
      ['the opamp token does not exist or is not deliverable', { token: 'fleet-b' }, { tokens: { 'fleet-a': 'x' } }, /"fleet-b"/],
      ['the opamp certificate is not known', { certificate: 'missing' }, {}, /"missing"/],
      ['the opamp certificate cannot be used', { certificate: 'broken' }, { certificates: { broken: { error: 'the key does not match the certificate' } } }, /the key does not match/],
    ])('is withheld, with a problem, when %s; other parts are still given', (_name, opamp, context, problem) => {
      // Prepare
      const spec: ConnectionSettingsSpec = { ...(opamp ? { opamp } : {}), ownLogs: { endpoint: 'https://l.example.com/v1/logs' } };

      // Act
      const settings = desired({ spec, context: connectionContext(context) });

      // Assess
      expect(partKeys(settings)).toEqual(['ownLogs']);
      expect(settings.problems).toHaveLength(1);
      expect(settings.problems[0]).toMatch(/^opamp: /);
      expect(settings.problems[0]).toMatch(problem);
      expect(settings.deferred).toBe(false);
      expect(settings.heartbeatSeconds).toBeUndefined();
    });

    it('never falls back to the presented header when the opamp token cannot be delivered', () => {
      // Act
      const settings = desired({ spec: { opamp: { token: 'fleet-b' } } });

      // Assess
      expect(settings.parts).toEqual([]);
      expect(settings.problems.join()).toContain('fleet-b');
    });
  });

  describe('certificates', () => {
    it('gives a destination its declared certificate, and withholds the destination with a problem when it is missing', () => {
      // Act
      const found = desired({
        spec: { ownMetrics: { endpoint: 'https://m.example.com/v1/metrics', certificate: 'metrics-client' } },
        context: connectionContext({ certificates: { 'metrics-client': METRICS_CERT } }),
      });
      const missing = desired({ spec: { ownMetrics: { endpoint: 'https://m.example.com/v1/metrics', certificate: 'metrics-client' } } });

      // Assess
      const metrics = settingsOffers(found, ['ownMetrics']).ownMetrics!;
      expect(text(metrics.certificate?.cert)).toBe(METRICS_CERT.cert);
      expect(metrics.certificate?.privateKey).toHaveLength(0);
      expect(text(metrics.certificate?.caCert)).toBe(METRICS_CERT.ca);
      expect(partKeys(missing)).toEqual(['opamp']);
      expect(missing.problems).toEqual([expect.stringMatching(/^ownMetrics: .*"metrics-client"/)]);
    });

    it.each<[string, ConnectionSettingsSpec]>([
      ['the opamp certificate', { opamp: { certificate: 'vault' } }],
      ['an own telemetry certificate', { ownTraces: { endpoint: 'https://t.example.com/v1/traces', certificate: 'vault' } }],
      ['an other connection certificate', { otherConnections: { archive: { endpoint: 'a:1', certificate: 'vault' } } }],
    ])('defers everything when %s cannot be read just now (temporary)', (_name, spec) => {
      // Act
      const temporary = desired({ spec, context: connectionContext({ certificates: { vault: { error: 'Secrets Manager throttled', temporary: true } } }) });
      const lasting = desired({ spec, context: connectionContext({ certificates: { vault: { error: 'no such secret' } } }) });

      // Assess
      expect(temporary.deferred).toBe(true);
      expect(lasting.deferred).toBe(false);
      expect(lasting.problems).toHaveLength(1);
    });
  });

  describe('heartbeat interval', () => {
    it('is the idle interval when nothing is pending, and min(pending, idle) when something is (0: idle throughout)', () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 86_400 }), fc.integer({ min: 0, max: 86_400 }), fc.boolean(), fc.boolean(), (idleSeconds, pendingSeconds, pending, inDocument) => {
          // Prepare
          const init: DesiredInit = inDocument
            ? { capabilities: STEERABLE, heartbeat: { idleSeconds: 1, pendingSeconds: 1 }, spec: { opamp: { heartbeat: { idleSeconds, pendingSeconds } } }, pending }
            : { capabilities: STEERABLE, heartbeat: { idleSeconds, pendingSeconds }, pending };

          // Act
          const settings = desired(init);

          // Assess
          const expected = pending && pendingSeconds > 0 ? Math.min(pendingSeconds, idleSeconds) : idleSeconds;
          expect(settings.heartbeatSeconds).toBe(expected);
          expect(settingsOffers(settings, ['opamp']).opamp?.heartbeatIntervalSeconds).toBe(BigInt(expected));
        }),
        { numRuns: 200 },
      );
    });

    it('takes from the document only what it says: a document idle interval with the policy pending interval', () => {
      // Act
      const idle = desired({ capabilities: STEERABLE, spec: { opamp: { heartbeat: { idleSeconds: 300 } } } });
      const pending = desired({ capabilities: STEERABLE, spec: { opamp: { heartbeat: { idleSeconds: 300 } } }, pending: true });
      const pendingOnly = desired({ capabilities: STEERABLE, spec: { opamp: { heartbeat: { pendingSeconds: 5 } } }, pending: true });

      // Assess
      expect(idle.heartbeatSeconds).toBe(300);
      expect(pending.heartbeatSeconds).toBe(HEARTBEAT.pendingSeconds);
      expect(pendingOnly.heartbeatSeconds).toBe(5);
    });

    it('is not given to an agent without ReportsHeartbeat, pending or not', () => {
      // Act
      const idle = desired({ capabilities: STEERABLE & ~REPORTS_HEARTBEAT, spec: { opamp: { headers: { 'x-a': '1' } } } });
      const pending = desired({ capabilities: STEERABLE & ~REPORTS_HEARTBEAT, spec: { opamp: { headers: { 'x-a': '1' } } }, pending: true });

      // Assess
      expect(idle.heartbeatSeconds).toBeUndefined();
      expect(pending.hash).toBe(idle.hash);
      expect(settingsOffers(idle, ['opamp']).opamp?.heartbeatIntervalSeconds).toBe(0n);
    });
  });
});

describe('settingsOffers', () => {
  it('carries the hash as its 32 bytes and only the parts named', () => {
    // Prepare
    const settings = full();

    // Act
    const offers = settingsOffers(settings, ['ownMetrics', 'other:archive']);

    // Assess
    expect(Buffer.from(offers.hash).toString('base64')).toBe(settings.hash);
    expect(offers.hash).toHaveLength(32);
    expect(offers.opamp).toBeUndefined();
    expect(offers.ownTraces).toBeUndefined();
    expect(offers.ownLogs).toBeUndefined();
    expect(Object.keys(offers.otherConnections)).toEqual(['archive']);
    expect(offers.otherConnections.archive).toMatchObject({ destinationEndpoint: 'https://archive.example.com', otherSettings: { bucket: 'logs', region: 'eu-west-1' } });
    expect(offers.ownMetrics?.destinationEndpoint).toBe('https://otlp.example.com/v1/metrics');
    expect(headerEntries(offers.ownMetrics?.headers)).toEqual([['x-api-key', 'k1']]);
  });

  it('carries each part as declared: telemetry destinations with TLS, other connections with their headers', () => {
    // Act
    const offers = settingsOffers(full(), ['ownLogs', 'ownTraces', 'other:audit']);

    // Assess
    expect(offers.ownLogs?.destinationEndpoint).toBe('https://otlp.example.com/v1/logs');
    expect(offers.ownLogs?.tls?.insecureSkipVerify).toBe(true);
    expect(offers.ownTraces?.destinationEndpoint).toBe('https://otlp.example.com/v1/traces');
    expect(offers.ownTraces?.headers).toBeUndefined();
    expect(headerEntries(offers.otherConnections.audit?.headers)).toEqual([['x-audit', 'on']]);
  });
});

describe('settingsToOffer', () => {
  const settings = full();
  const every = partKeys(settings);
  /** What the agent has after being sent `d`. */
  const had = (d: DesiredSettings): AppliedSettings => ({ ...assumeApplied(recordSettingsOffer(undefined, d, partKeys(d), T0, 1n), T0), assumed: false });
  const offered = (d: DesiredSettings, overrides: Partial<SettingsOffer> = {}): SettingsOffer => ({ ...recordSettingsOffer(undefined, d, partKeys(d), T0, 1n), ...overrides });

  function decide(args: { capabilities?: bigint; desired?: DesiredSettings; reported?: ReportedApplyStatus; offer?: SettingsOffer; applied?: AppliedSettings; now?: number }) {
    return settingsToOffer({
      capabilities: args.capabilities ?? TAKES_ALL,
      desired: args.desired ?? settings,
      reported: args.reported,
      offer: args.offer,
      applied: args.applied,
      now: args.now ?? T0,
      policy: SETTINGS_POLICY,
    });
  }

  it('offers every part to an agent that has nothing yet', () => {
    // Act
    const send = decide({});

    // Assess
    expect(send?.slice().sort()).toEqual(every);
  });

  it('offers nothing when there is nothing to offer', () => {
    // Act
    const send = decide({ desired: desired({ capabilities: REPORTS_STATUS }) });

    // Assess
    expect(send).toBeUndefined();
  });

  it.each([
    ['APPLIED', APPLIED],
    ['APPLYING', APPLYING],
    ['FAILED', FAILED],
  ])('offers nothing to a reporting agent that reports the desired hash %s, however long ago the offer was', (_name, status) => {
    // Act
    const send = decide({ reported: reportedStatus(settings.hash, status), offer: offered(settings), now: T0 + 100 * RESEND });

    // Assess
    expect(send).toBeUndefined();
  });

  it('repeats an offer of the same hash to a reporting agent only after resendAfterMs, and only while fewer than maxAttempts were made', () => {
    // Act
    const early = decide({ offer: offered(settings, { attempts: 1 }), now: T0 + RESEND - 1 });
    const due = decide({ offer: offered(settings, { attempts: 1 }), now: T0 + RESEND });
    const lastOne = decide({ offer: offered(settings, { attempts: SETTINGS_POLICY.maxAttempts - 1 }), now: T0 + RESEND });
    const exhausted = decide({ offer: offered(settings, { attempts: SETTINGS_POLICY.maxAttempts }), now: T0 + 100 * RESEND });

    // Assess
    expect(early).toBeUndefined();
    expect(due?.slice().sort()).toEqual(every);
    expect(lastOne).toBeDefined();
    expect(exhausted).toBeUndefined();
  });

  it('offers a new hash to a reporting agent at once, whatever became of the previous one', () => {
    // Prepare
    const previous = full({ pending: true });

    // Act
    const send = decide({ offer: offered(previous, { attempts: SETTINGS_POLICY.maxAttempts }), reported: reportedStatus(previous.hash, FAILED), now: T0 + SECOND });

    // Assess
    expect(send).toBeDefined();
  });

  it('offers each hash once to an agent that does not report, however long it waits', () => {
    // Prepare
    const capabilities = TAKES_ALL & ~REPORTS_SETTINGS;
    const offer = offered(settings);

    // Act
    const again = decide({ capabilities, offer, now: T0 + 100 * RESEND });
    const assumed = decide({ capabilities, offer, applied: assumeApplied(offer, T0), now: T0 + 100 * RESEND });
    const changed = decide({ capabilities, desired: full({ pending: true }), offer, applied: assumeApplied(offer, T0), now: T0 + SECOND });

    // Assess
    expect(again).toBeUndefined();
    expect(assumed).toBeUndefined();
    expect(changed).toEqual(['opamp']);
  });

  it('sends only the parts that differ from what the agent has', () => {
    // Prepare: the agent has everything; the document then changes its metrics destination and the interval switches.
    const next = desired({ spec: { ...FULL, ownMetrics: { ...FULL.ownMetrics!, headers: { 'x-api-key': 'k2' } } }, context: connectionContext(FULL_CONTEXT), pending: true });

    // Act
    const send = decide({ desired: next, offer: offered(settings), applied: had(settings) });

    // Assess
    expect(send?.slice().sort()).toEqual(['opamp', 'ownMetrics']);
  });

  it('sends every part when none differs but the hash does (a part was removed)', () => {
    // Prepare
    const fewer = desired({ spec: without(FULL, 'ownLogs'), context: connectionContext(FULL_CONTEXT) });

    // Act
    const send = decide({ desired: fewer, offer: offered(settings), applied: had(settings) });

    // Assess
    expect(send?.slice().sort()).toEqual(partKeys(fewer));
    expect(send).not.toContain('ownLogs');
  });
});

describe('recordSettingsOffer and assumeApplied', () => {
  it('records the hashes, every part the agent should have, what was sent, the interval and the first attempt', () => {
    // Prepare
    const settings = full();

    // Act
    const offer = recordSettingsOffer(undefined, settings, ['opamp'], T0, 7n);

    // Assess
    expect(offer).toMatchObject({ hash: settings.hash, baseHash: settings.baseHash, heartbeatSeconds: 60, offeredAt: T0, offeredSeq: 7n, attempts: 1, sent: ['opamp'] });
    expect(Object.keys(offer.parts).sort()).toEqual(partKeys(settings));
    expect(offer.parts.opamp).toBe(settings.parts.find((p) => p.key === 'opamp')?.hash);
  });

  it('counts attempts for the same hash and starts again for another', () => {
    // Prepare
    const settings = full();
    const first = recordSettingsOffer(undefined, settings, ['opamp'], T0, 1n);

    // Act
    const second = recordSettingsOffer(first, settings, ['opamp'], T0 + RESEND, 2n);
    const other = recordSettingsOffer(second, full({ pending: true }), ['opamp'], T0 + RESEND + 1, 3n);

    // Assess
    expect(second.attempts).toBe(2);
    expect(other.attempts).toBe(1);
    expect(other.heartbeatSeconds).toBe(15);
  });

  it('records no interval for settings without one', () => {
    // Act
    const offer = recordSettingsOffer(undefined, desired({ capabilities: OWN_LOGS, spec: { ownLogs: { endpoint: 'https://l.example.com/v1/logs' } } }), ['ownLogs'], T0, 1n);

    // Assess
    expect(offer.heartbeatSeconds).toBeUndefined();
    expect('heartbeatSeconds' in offer).toBe(false);
  });

  it('assumes an offer applied as it was made', () => {
    // Prepare
    const offer = recordSettingsOffer(undefined, full(), ['opamp', 'ownLogs'], T0, 1n);

    // Act
    const applied = assumeApplied(offer, T0 + SECOND);

    // Assess
    expect(applied).toEqual({ hash: offer.hash, baseHash: offer.baseHash, parts: offer.parts, heartbeatSeconds: 60, at: T0 + SECOND, assumed: true });
  });
});

describe('noteSettingsStatus', () => {
  const settings = full();
  const offer = recordSettingsOffer(undefined, settings, partKeys(settings), T0, 1n);

  it('takes the offer as applied when the agent reports its hash APPLIED', () => {
    // Act
    const applied = noteSettingsStatus(offer, undefined, reportedStatus(settings.hash, APPLIED), T0 + MINUTE);

    // Assess
    expect(applied).toEqual({ hash: offer.hash, baseHash: offer.baseHash, parts: offer.parts, heartbeatSeconds: 60, at: T0 + MINUTE, assumed: false });
  });

  it('replaces an assumption with the report', () => {
    // Act
    const applied = noteSettingsStatus(offer, assumeApplied(offer, T0), reportedStatus(settings.hash, APPLIED), T0 + MINUTE);

    // Assess
    expect(applied?.assumed).toBe(false);
    expect(applied?.at).toBe(T0 + MINUTE);
  });

  it.each<[string, SettingsOffer | undefined, ReportedApplyStatus]>([
    ['the offered hash APPLYING', offer, reportedStatus(settings.hash, APPLYING)],
    ['the offered hash FAILED', offer, reportedStatus(settings.hash, FAILED, 'cannot reach the endpoint')],
    ['another hash APPLIED', offer, reportedStatus(full({ pending: true }).hash, APPLIED)],
    ['APPLIED without any offer', undefined, reportedStatus(settings.hash, APPLIED)],
  ])('keeps what the agent had when it reports %s', (_name, lastOffer, status) => {
    // Prepare
    const before: AppliedSettings = { hash: 'old', baseHash: 'old', parts: { opamp: 'old' }, at: T0 - MINUTE, assumed: false };

    // Act
    const applied = noteSettingsStatus(lastOffer, before, status, T0 + MINUTE);

    // Assess
    expect(applied).toBe(before);
  });

  it('keeps the time of the first report when the agent reports the same APPLIED hash again', () => {
    // Prepare
    const first = noteSettingsStatus(offer, undefined, reportedStatus(settings.hash, APPLIED), T0 + MINUTE);

    // Act
    const again = noteSettingsStatus(offer, first, reportedStatus(settings.hash, APPLIED), T0 + 2 * MINUTE);

    // Assess
    expect(again).toBe(first);
  });
});

describe('awaitedInterval', () => {
  const settings = full({ pending: true });
  const offer = recordSettingsOffer(undefined, settings, partKeys(settings), T0, 1n);

  function awaited(args: { capabilities?: bigint; baseHash?: string; reported?: ReportedApplyStatus; offer?: SettingsOffer; applied?: AppliedSettings; now?: number }): number | undefined {
    return awaitedInterval({
      capabilities: args.capabilities ?? TAKES_ALL,
      baseHash: args.baseHash ?? settings.baseHash,
      reported: args.reported,
      offer: 'offer' in args ? args.offer : offer,
      applied: args.applied,
      now: args.now ?? T0 + SECOND,
      policy: SETTINGS_POLICY,
    });
  }

  it.each<[string, Parameters<typeof awaited>[0], number | undefined]>([
    ['offered to a reporting agent that has not reported on it yet', {}, settings.heartbeatSeconds],
    ['offered the maximum number of times, the last one recently', { offer: { ...offer, attempts: SETTINGS_POLICY.maxAttempts }, now: T0 + RESEND - 1 }, settings.heartbeatSeconds],
    ['reported APPLYING by the agent', { reported: reportedStatus(settings.hash, APPLYING) }, undefined],
    ['reported FAILED by the agent', { reported: reportedStatus(settings.hash, FAILED) }, undefined],
    ['applied by the agent', { applied: { ...assumeApplied(offer, T0), assumed: false } }, undefined],
    ['offered to an agent that does not report', { capabilities: TAKES_ALL & ~REPORTS_SETTINGS }, undefined],
    ['offered the maximum number of times, and the quiet period passed', { offer: { ...offer, attempts: SETTINGS_POLICY.maxAttempts }, now: T0 + RESEND }, undefined],
    ['offered with other settings than those the agent should have now', { baseHash: 'b3RoZXI=' }, undefined],
    ['never offered', { offer: undefined }, undefined],
  ])('for settings %s: %s', (_name, args, expected) => {
    // Act
    const result = awaited(args);

    // Assess
    expect(result).toBe(expected);
  });
});

describe('settingsRolloutState', () => {
  const settings = full();
  const offer = recordSettingsOffer(undefined, settings, partKeys(settings), T0, 1n);

  it.each<[string, Parameters<typeof settingsRolloutState>[0], SettingsRolloutState]>([
    ['nothing targets the agent and nothing was offered', { targeted: false, reported: undefined, offer: undefined }, 'none'],
    ['a document targets the agent and nothing was offered yet', { targeted: true, reported: undefined, offer: undefined }, 'pending'],
    ['an offer without a report', { targeted: true, reported: undefined, offer }, 'offered'],
    ['a report of an older hash', { targeted: true, reported: reportedStatus('b2xk', APPLIED), offer }, 'offered'],
    ['a report of the offered hash APPLYING', { targeted: true, reported: reportedStatus(settings.hash, APPLYING), offer }, 'applying'],
    ['a report of the offered hash APPLIED', { targeted: true, reported: reportedStatus(settings.hash, APPLIED), offer }, 'applied'],
    ['a report of the offered hash FAILED', { targeted: true, reported: reportedStatus(settings.hash, FAILED), offer }, 'failed'],
  ])('is %s → %s', (_name, args, expected) => {
    // Act
    const state = settingsRolloutState(args);

    // Assess
    expect(state).toBe(expected);
  });
});
