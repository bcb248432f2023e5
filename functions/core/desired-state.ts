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
  return new LazyDesiredState(agent, fleet);
}

/** Worked out on first use, once (a class: polls make one each, and closures per poll would cost more). */
class LazyDesiredState implements DesiredState {
  private targets: Targets | undefined;
  private resolvedSet: DesiredState['packageSet'] | null = null;

  constructor(
    private readonly agent: TargetAgent,
    private readonly fleet: FleetState,
  ) {}

  get config(): ConfigTarget | undefined {
    return this.resolved().config;
  }

  get packages(): PackagesTarget | undefined {
    return this.resolved().packages;
  }

  get settings(): SettingsTarget | undefined {
    return this.resolved().settings;
  }

  get packageSet(): DesiredState['packageSet'] {
    if (this.resolvedSet === null) {
      const target = this.resolved().packages;
      this.resolvedSet = target ? resolvePackageSet(target.spec, this.fleet.packages) : undefined;
    }
    return this.resolvedSet;
  }

  private resolved(): Targets {
    return (this.targets ??= resolveTargets(this.agent, this.fleet));
  }
}

/** The package set to offer: undefined when none is assigned or it cannot be offered whole. */
export function offerablePackages(desired: DesiredState): ResolvedPackageSet | undefined {
  const resolved = desired.packageSet;
  return resolved && 'set' in resolved ? resolved.set : undefined;
}
