import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clientSettings } from '../../functions/adapters/client-settings.js';
import { SecretsManagerReader } from '../../functions/adapters/secrets-manager/secret-reader.js';
import { EMPTY_FLEET } from '../../functions/core/fleet.js';
import type { FleetState } from '../../functions/core/fleet.js';
import { validateSettings } from '../../functions/core/settings-file.js';
import { NO_TELEMETRY } from '../../functions/observability/telemetry.js';
import { SecretResolver } from '../../functions/service/secret-resolver.js';
import { SecretsManagerEndpoint } from '../support/secrets-manager-endpoint.js';

const REFRESH_MS = 60_000;
const PREFIX = 'opamp/';

describe('credentials from Secrets Manager (settings secret references)', () => {
  const endpoint = new SecretsManagerEndpoint();
  let now = 1_000_000;
  let resolver: SecretResolver;
  const fleet: FleetState = {
    ...EMPTY_FLEET,
    settings: new Map([
      [
        'default',
        validateSettings({
          ownMetrics: { endpoint: 'https://otlp.example.com/v1/metrics', headers: { 'x-api-key': { secret: 'otel/keys', key: 'ingest' }, 'x-plain': { secret: 'otel/plain' } } },
        }),
      ],
    ]),
  };
  const ingest = { secret: 'otel/keys', key: 'ingest' };
  const plain = { secret: 'otel/plain' };
  const make = () =>
    new SecretResolver({
      // One attempt: an injected outage should not be retried by the SDK behind the test's back.
      secrets: new SecretsManagerReader({ ...clientSettings({ secretsManagerEndpoint: endpoint.url, emulated: true }).secretsManager, maxAttempts: 1 }),
      prefix: PREFIX,
      now: () => now,
      refreshMs: REFRESH_MS,
      telemetry: NO_TELEMETRY,
    });

  beforeAll(async () => {
    await endpoint.start();
  });
  afterAll(async () => {
    await endpoint.stop();
  });
  beforeEach(() => {
    endpoint.clear();
    resolver = make();
  });

  it('reads the current version under the prefix, a JSON field of it, with the version id', async () => {
    const keys = endpoint.put('opamp/otel/keys', JSON.stringify({ ingest: 'k-1', other: 'x' }));
    const plainVersion = endpoint.put('opamp/otel/plain', 'p-1');

    const lookup = await resolver.lookup(fleet);

    expect(lookup(ingest)).toEqual({ value: 'k-1', version: keys });
    expect(lookup(plain)).toEqual({ value: 'p-1', version: plainVersion });
    expect(endpoint.requests.map((r) => [r.secretId, r.versionStage]).sort()).toEqual([
      ['opamp/otel/keys', 'AWSCURRENT'],
      ['opamp/otel/plain', 'AWSCURRENT'],
    ]);
  });

  it('sees a rotation after the refresh period, as a new value with a new version', async () => {
    const v1 = endpoint.put('opamp/otel/keys', JSON.stringify({ ingest: 'k-1' }));
    endpoint.put('opamp/otel/plain', 'p');
    await resolver.lookup(fleet);
    const v2 = endpoint.put('opamp/otel/keys', JSON.stringify({ ingest: 'k-2' }));

    now += REFRESH_MS - 1;
    const cached = (await resolver.lookup(fleet))(ingest);
    now += 1;
    const rotated = (await resolver.lookup(fleet))(ingest);

    expect(cached).toEqual({ value: 'k-1', version: v1 });
    expect(rotated).toEqual({ value: 'k-2', version: v2 });
    expect(endpoint.requests.filter((r) => r.secretId === 'opamp/otel/keys')).toHaveLength(2);
  });

  it('keeps the last good value through a failure, marked stale; a secret never read is temporarily unavailable', async () => {
    const v1 = endpoint.put('opamp/otel/keys', JSON.stringify({ ingest: 'k-1' }));
    endpoint.put('opamp/otel/plain', 'p');
    await resolver.lookup(fleet);
    endpoint.failWith = { status: 400, type: 'ThrottlingException' };
    now += REFRESH_MS;

    const during = (await resolver.lookup(fleet))(ingest);
    const neverRead = (await make().lookup(fleet))(ingest);
    endpoint.failWith = undefined;
    now += 30_000;
    const after = (await resolver.lookup(fleet))(ingest);

    expect(during).toMatchObject({ value: 'k-1', version: v1, stale: expect.stringContaining('opamp/otel/keys') });
    expect(neverRead).toMatchObject({ temporary: true, error: expect.stringContaining('opamp/otel/keys') });
    expect(after).toEqual({ value: 'k-1', version: v1 });
  });

  it('says what is wrong: a missing secret, a missing field, an env reference outside a local backend', async () => {
    endpoint.put('opamp/otel/keys', JSON.stringify({ other: 'x' }));

    const missingField = await resolver.resolve(ingest);
    const missingSecret = await resolver.resolve(plain);
    const env = await resolver.resolve({ env: 'OPAMP_SECRET_X' });

    expect(missingField).toEqual({ error: 'secret opamp/otel/keys has no string field "ingest"' });
    expect(missingSecret).toMatchObject({ temporary: true, error: expect.stringContaining("can't find") });
    expect(env).toEqual({ error: expect.stringContaining('only read by a local backend') });
  });
});
