import type { FleetState } from './fleet.js';
import { resolvePackageSet } from './packages.js';
import type { ResolvedPackageSet } from './packages.js';
import { resolveTargets } from './targeting.js';
import type { ConfigTarget, PackagesTarget, SettingsTarget, TargetAgent, Targets } from './targeting.js';

/**
 * What one agent should have: its configuration, package set and connection
 * settings document, each with the assignment (or `default`) that chose it.
 * Every feature of a poll, and every fleet API view of an agent, reads it from
 * here, so the assignments are matched once per agent and the package set is
 * hashed once. Both are worked out on first use: a heartbeat that needs
 * neither pays for neither.
 */
export interface DesiredState {
  readonly config: ConfigTarget | undefined;
  readonly packages: PackagesTarget | undefined;
  /** The package set's versions, or why it cannot be offered; undefined when no assignment gives one. */
  readonly packageSet: { set: ResolvedPackageSet } | { errors: string[] } | undefined;
  readonly settings: SettingsTarget | undefined;
}

/** The desired state of an agent (its uid and attributes as they are now) in this fleet state. */
export function desiredState(agent: TargetAgent, fleet: FleetState): DesiredState {
  let targets: Targets | undefined;
  let packageSet: DesiredState['packageSet'] | null = null;
  const resolved = () => (targets ??= resolveTargets(agent, fleet));
  return {
    get config() {
      return resolved().config;
    },
    get packages() {
      return resolved().packages;
    },
    get settings() {
      return resolved().settings;
    },
    get packageSet() {
      if (packageSet === null) {
        const target = resolved().packages;
        packageSet = target ? resolvePackageSet(target.spec, fleet.packages) : undefined;
      }
      return packageSet;
    },
  };
}

/** The package set to offer: undefined when none is assigned or it cannot be offered whole. */
export function offerablePackages(desired: DesiredState): ResolvedPackageSet | undefined {
  const resolved = desired.packageSet;
  return resolved && 'set' in resolved ? resolved.set : undefined;
}
