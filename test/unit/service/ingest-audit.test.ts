import { describe, expect, it } from 'vitest';
import { MemoryAuditLog } from '../../../functions/adapters/memory/audit-log.js';
import { MemoryFleetStore } from '../../../functions/adapters/memory/fleet-store.js';
import { NO_TELEMETRY } from '../../../functions/observability/telemetry.js';
import { BucketIngest } from '../../../functions/service/bucket-ingest.js';
import type { BucketEventRecord } from '../../../functions/service/bucket-ingest.js';
import { MemoryObjectStore } from './memory-object-store.js';

const T0 = Date.UTC(2026, 11, 2, 9);
const ALICE = 'AWS:AROAEXAMPLEROLE:alice';

function setup(principal?: string) {
  const objects = new MemoryObjectStore();
  const audit = new MemoryAuditLog(() => T0);
  const ingest = new BucketIngest({ objects, fleet: new MemoryFleetStore(), now: () => T0, telemetry: NO_TELEMETRY, maxConfigFileBytes: 64, audit, principal });
  let delivered = 0;
  /** Delivers the new events as made by `who` (S3 puts the uploader in each record's userIdentity). */
  const deliverAs = async (who: string | undefined) => {
    const batch: BucketEventRecord[] = objects.eventsSince(delivered).map((r) => (who === undefined ? r : { ...r, userIdentity: { principalId: who } }));
    delivered = objects.events.length;
    return ingest.handleEvent(batch);
  };
  const entries = () => audit.all().map(({ principal, source, action, target, result, message }) => ({ principal, source, action, target, result, ...(message ? { message } : {}) }));
  return { objects, ingest, audit, deliverAs, entries };
}

describe('the bucket ingest audit', () => {
  it('records each upload and removal with the principal of its event', async () => {
    const { objects, deliverAs, entries } = setup();
    await objects.put('configs/web/collector.yaml', 'receivers: {}\n');
    await objects.put('assignments/checkout.json', '{"config": "web", "selector": "service.name=checkout"}');
    await deliverAs(ALICE);
    await objects.deleteObject('assignments/checkout.json');
    await deliverAs('AWS:AIDAEXAMPLEUSER');

    expect(entries()).toEqual([
      { principal: ALICE, source: 'bucket', action: 'config-file.put', target: 'configs/web/collector.yaml', result: 'ok' },
      { principal: ALICE, source: 'bucket', action: 'assignment.put', target: 'assignments/checkout.json', result: 'ok' },
      { principal: 'AWS:AIDAEXAMPLEUSER', source: 'bucket', action: 'assignment.remove', target: 'assignments/checkout.json', result: 'ok' },
    ]);
  });

  it('records a rejected file as refused, with the reason', async () => {
    const { objects, deliverAs, entries } = setup();
    await objects.put('assignments/broken.json', '{"config": ');
    await objects.put('configs/web/huge.yaml', 'x'.repeat(100));
    await objects.put('configs/bad name/a.yaml', 'a: 1');
    await deliverAs(ALICE);

    const [assignment, tooLarge, badKey] = entries();
    expect(assignment).toMatchObject({ principal: ALICE, action: 'assignment.put', target: 'assignments/broken.json', result: 'refused' });
    expect(assignment!.message).toMatch(/JSON/i);
    expect(tooLarge).toMatchObject({ action: 'config-file.put', target: 'configs/web/huge.yaml', result: 'refused', message: '100 bytes is more than the 64 a configuration file may have' });
    expect(badKey).toMatchObject({ action: 'object.put', target: 'configs/bad name/a.yaml', result: 'refused' });
    expect(badKey!.message).toBeTruthy();
  });

  it('records nothing for an event older than what is recorded', async () => {
    const { objects, ingest, audit } = setup();
    await objects.put('configs/web/a.yaml', 'a: 1');
    await objects.put('configs/web/a.yaml', 'a: 2');
    const [first, second] = objects.eventsSince(0);
    await ingest.handleEvent([second!]);
    await ingest.handleEvent([first!]);

    expect(audit.all()).toHaveLength(1);
  });

  it('records what a reconcile changed, once, as its own principal', async () => {
    const { objects, ingest, entries } = setup('local');
    await objects.put('configs/web/a.yaml', 'a: 1');
    await objects.put('packages/collector/1.0.0/a.tgz', 'one');
    await objects.put('packages/collector/1.0.0/b.tgz', 'two');

    await ingest.reconcile();
    await ingest.reconcile();

    expect(entries()).toEqual([
      { principal: 'local', source: 'bucket', action: 'config-file.put', target: 'configs/web/a.yaml', result: 'ok' },
      expect.objectContaining({ principal: 'local', action: 'package.put', target: 'packages/collector/1.0.0', result: 'refused' }),
    ]);
  });

  it('uses its own principal over the events when it has one (the local backend)', async () => {
    const { objects, deliverAs, entries } = setup('local');
    await objects.put('settings/default.json', '{}');
    await deliverAs('AWS:s3rver');

    expect(entries().map((e) => e.principal)).toEqual(['local']);
  });
});
