import { describe, expect, it } from 'vitest';
import { MemoryAuditLog } from '../../../functions/adapters/memory/audit-log.js';
import { ROLLOUT_PRINCIPAL } from '../../../functions/core/audit.js';
import type { AuditEntry } from '../../../functions/core/audit.js';
import { NO_TELEMETRY } from '../../../functions/observability/telemetry.js';
import type { Telemetry } from '../../../functions/observability/telemetry.js';
import { AuditTrail } from '../../../functions/service/audit-trail.js';

const T0 = Date.UTC(2026, 11, 2, 9);

describe('the audit trail writers hold', () => {
  it('records a rollout step as a rollout engine would, listed by source', async () => {
    const log = new MemoryAuditLog(() => T0);
    const trail = new AuditTrail(log, NO_TELEMETRY);

    await trail.record({ at: T0, source: 'rollout', principal: ROLLOUT_PRINCIPAL, action: 'rollout.advance', target: 'rollouts/web-2', result: 'ok', detail: { step: 2, percent: 25 } });

    expect((await trail.list({ source: 'rollout', limit: 10 })).entries).toEqual([
      { at: T0, source: 'rollout', principal: 'rollout-engine', action: 'rollout.advance', target: 'rollouts/web-2', result: 'ok', detail: { step: 2, percent: 25 } },
    ]);
  });

  it('cuts what it writes to bounded sizes', async () => {
    const log = new MemoryAuditLog(() => T0);

    await new AuditTrail(log, NO_TELEMETRY).record({ at: T0, source: 'bucket', principal: 'p', action: 'object.put', target: `configs/${'x'.repeat(3000)}`, result: 'refused' });

    expect(log.all()[0]!.target).toHaveLength(1024);
  });

  it('logs and counts a failed write instead of throwing it', async () => {
    const counted: string[] = [];
    const logged: string[] = [];
    const telemetry: Telemetry = { logger: { ...NO_TELEMETRY.logger, error: (message: string) => logged.push(message) }, count: (metric) => counted.push(metric) };
    const trail = new AuditTrail(
      {
        record: async (_entry: AuditEntry) => {
          throw new Error('throttled');
        },
        list: async () => ({ entries: [] }),
      },
      telemetry,
    );

    await expect(trail.record({ at: T0, source: 'api', principal: 'local', action: 'token.revoke', target: 'tokens/a', result: 'ok' })).resolves.toBeUndefined();
    expect(counted).toEqual(['AuditWriteFailed']);
    expect(logged).toEqual(['audit entry not written']);
  });
});
