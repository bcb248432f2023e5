import { BucketIngest } from '../service/bucket-ingest.js';
import { createAuditTrail } from './stores.js';
import type { WiringOptions } from './stores.js';

export function createBucketIngest(options: WiringOptions): BucketIngest {
  const { config, stores, telemetry } = options;
  return new BucketIngest({
    objects: stores.objects,
    fleet: stores.fleet,
    now: options.now ?? Date.now,
    telemetry,
    maxConfigFileBytes: config.maxConfigFileBytes,
    rejectedKeys: stores.rejectedKeys,
    audit: createAuditTrail(options),
    principal: options.principal,
  });
}
