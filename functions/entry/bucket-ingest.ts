import { BucketIngest } from '../service/bucket-ingest.js';
import { createAuditTrail } from './stores.js';
import type { WiringOptions } from './stores.js';

/** `principal`: who changes are attributed to in configuration history (the local backend passes `local`). */
export function createBucketIngest(options: WiringOptions, principal = 'bucket'): BucketIngest {
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
    history: { store: stores.configHistory, state: stores.stateObjects, principal },
  });
}
