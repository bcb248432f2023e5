import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { MockInstance } from 'vitest';
import { createPowertools } from '../../../functions/observability/powertools.js';

/** Every EMF document printed, as { metric name: value } plus its reason dimension. */
function documents(log: MockInstance<typeof console.log>): Array<Record<string, unknown>> {
  return log.mock.calls
    .map(([line]) => line)
    .filter((line): line is string => typeof line === 'string' && line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('createPowertools metrics', () => {
  let log: MockInstance<typeof console.log>;

  beforeAll(() => {
    vi.stubEnv('POWERTOOLS_DEV', 'true');
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
  });
  afterAll(() => {
    vi.unstubAllEnvs();
  });
  beforeEach(() => {
    log = vi.spyOn(console, 'log').mockImplementation(() => {});
    return () => log.mockRestore();
  });

  it('sums counts across invocations and writes one document per flush interval', () => {
    let now = 0;
    const powertools = createPowertools('test', { metricsFlushIntervalMs: 60_000, now: () => now });

    for (let poll = 0; poll < 120; poll++) {
      powertools.telemetry.count('Polls');
      now += 500; // a poll every half second
      powertools.flushMetricsIfDue();
    }

    const docs = documents(log);
    expect(docs).toHaveLength(1);
    expect(docs[0]!.Polls).toBe(120);
  });

  it('writes nothing for invocations within the interval', () => {
    let now = 0;
    const powertools = createPowertools('test', { now: () => now });

    powertools.telemetry.count('Polls');
    now += 59_000;
    powertools.flushMetricsIfDue();

    expect(documents(log)).toHaveLength(0);
  });

  it('publishes rejections with their reason as a dimension', () => {
    const powertools = createPowertools('test');

    powertools.telemetry.count('Rejected.unauthorized');
    powertools.telemetry.count('Rejected.unauthorized');
    powertools.telemetry.count('Rejected.payload-too-large');
    powertools.flushMetrics();

    const rejected = documents(log).map((d) => [d.reason, d.RejectedRequests]);
    expect(rejected).toEqual(
      expect.arrayContaining([
        ['unauthorized', 2],
        ['payload-too-large', 1],
      ]),
    );
  });
});
