import { v5 as uuidv5 } from 'uuid';

/** What makes one simulated agent different from the next. */
export interface AgentProfile {
  index: number;
  /** Stable across runs of the demo, so a restarted demo finds its agents again. */
  instanceUid: string;
  service: string;
  environment: string;
  version: string;
  host: string;
  /** A full Collector under a supervisor, or a small SDK agent that only reports. */
  kind: 'collector' | 'sdk';
  /** An old Collector that cannot load newer configurations: it reports every one FAILED. */
  rejectsConfigs: boolean;
  /** How often (per poll) its health turns bad, or recovers. */
  flapChance: number;
}

const SERVICES = ['checkout', 'cart', 'payments', 'frontend', 'inventory', 'shipping', 'ads', 'email'];
const ENVIRONMENTS = ['prod', 'prod', 'staging', 'dev'];
const VERSIONS = ['0.141.0', '0.141.0', '0.140.0', '0.139.0'];
export const OLD_VERSION = '0.98.0';
// Any fixed namespace: it only has to stay the same between runs.
const DEMO_NAMESPACE = '6f1c3c7e-3b55-4c0c-9d3e-0c3f4d5e6a7b';

/**
 * The demo fleet: a spread of services, environments and versions, every
 * fifth agent an SDK agent, one old Collector that rejects configurations,
 * and a few agents whose health comes and goes.
 */
export function demoProfiles(count: number, prefix = 'demo'): AgentProfile[] {
  return Array.from({ length: count }, (_, index) => {
    const rejectsConfigs = index === 1;
    const kind: AgentProfile['kind'] = index % 5 === 4 ? 'sdk' : 'collector';
    return {
      index,
      instanceUid: uuidv5(`${prefix}-${index}`, DEMO_NAMESPACE),
      service: SERVICES[index % SERVICES.length]!,
      environment: ENVIRONMENTS[index % ENVIRONMENTS.length]!,
      version: rejectsConfigs ? OLD_VERSION : VERSIONS[index % VERSIONS.length]!,
      host: `${prefix}-host-${String(index + 1).padStart(2, '0')}`,
      kind,
      rejectsConfigs,
      flapChance: index % 3 === 2 ? 0.15 : 0,
    };
  });
}
