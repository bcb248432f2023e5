import type { FleetState } from '../core/fleet.js';
import type { Telemetry } from '../observability/telemetry.js';
import type { FleetStore } from '../ports/fleet-store.js';
import { RevalidatingCache } from './revalidating-cache.js';

/** The fleet's desired state, cached per function instance (see RevalidatingCache). */
export class FleetStateCache extends RevalidatingCache<FleetState> {
  constructor(store: FleetStore, now: () => number, revalidateMs: number, telemetry: Telemetry) {
    super(
      {
        generation: () => store.generation(),
        load: async () => {
          const { state } = await store.load();
          return { generation: state.generation, value: state };
        },
      },
      now,
      revalidateMs,
      telemetry,
      'fleet state',
    );
  }
}
