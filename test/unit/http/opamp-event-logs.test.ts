import { describe, expect, it } from 'vitest';
import type { Telemetry } from '../../../functions/observability/telemetry.js';
import { fullReport, heartbeat, newUidBytes } from '../../support/messages.js';
import { buildApp, postMessage } from './support.js';

const T0 = Date.UTC(2026, 0, 1);

/** Telemetry that keeps what the route logs at INFO and the counters it adds. */
function recordingTelemetry() {
  const info: Array<{ message: string; fields: unknown }> = [];
  const counts = new Map<string, number>();
  const telemetry: Telemetry = {
    logger: {
      debug() {},
      info(message: string, fields?: unknown) {
        info.push({ message, fields });
      },
      warn() {},
      error() {},
    } as Telemetry['logger'],
    count(metric, value = 1) {
      counts.set(metric, (counts.get(metric) ?? 0) + value);
    },
  };
  return { telemetry, info, counts };
}

describe('POST /v1/opamp: gap and reset log lines', () => {
  it('logs an agent that keeps misnumbering at most once per window, and counts every gap', async () => {
    // Prepare: an agent whose every message jumps far ahead and never answers a full-state request.
    let now = T0;
    const { telemetry, info, counts } = recordingTelemetry();
    const { app } = buildApp({ now: () => now, telemetry });
    const uid = newUidBytes();
    expect((await postMessage(app, fullReport(uid, 1n))).status).toBe(200);
    info.length = 0;

    // Act: a jump of 1,000 every 10 s for 5 minutes.
    for (let i = 1; i <= 30; i++) {
      now = T0 + i * 10_000;
      expect((await postMessage(app, heartbeat(uid, 1n + BigInt(i) * 1_000n))).status).toBe(200);
    }

    // Assess
    expect(counts.get('SequenceGaps')).toBe(30);
    expect(info.filter((l) => JSON.stringify(l.fields).includes('sequence-gap'))).toHaveLength(1);
  });
});
