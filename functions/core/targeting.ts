import type { ConfigAssignment, ConfigMeta, FleetState } from './fleet.js';
import { DEFAULT_ASSIGNMENT_NAME, DEFAULT_CONFIG_NAME, DEFAULT_SETTINGS_NAME } from './fleet.js';
import type { ConnectionSettingsSpec } from './connection-settings.js';
import type { PackageSetSpec } from './packages.js';
import { matchesSelector } from './selector.js';
import { byName } from './compare.js';
import { stagedConfig, stagedPackages, stagedWinner, stagingRollout } from './rollouts/staging.js';
import type { StagedAgent } from './rollouts/staging.js';
import type { Rollout, RolloutState } from './rollouts/rollout.js';

/** The agent as targeting sees it: who it is, its attributes, and (for staged rollouts) what it reports having. */
export interface TargetAgent extends StagedAgent {
  attributes: Readonly<Record<string, string>>;
}

/** The staged rollout that decided a target, on which side of it the agent is, and the rollout's state. */
export interface StagedBy {
  id: string;
  side: 'to' | 'from';
  state: RolloutState;
}

/** Which configuration an agent should run, and why. */
export interface ConfigTarget {
  configName: string;
  /** The assignment that chose it, or `default`. */
  via: string;
  /** Undefined when the assigned configuration does not exist (yet): nothing is offered then. */
  config: ConfigMeta | undefined;
  rollout?: StagedBy | undefined;
}

/**
 * The assignment that decides one aspect (configuration, package set,
 * connection settings) for an
 * agent, among those that name that aspect. Precedence, highest first:
 * 1. an assignment naming the agent's instance uid;
 * 2. selector assignments that match the agent's attributes, by priority
 *    (higher first), then by the number of selector terms (more specific
 *    first), then by assignment name (alphabetical), so ties always break the
 *    same way on every function instance;
 * 3. the assignment named `default` (it has no target).
 */
function resolveAssignment(agent: TargetAgent, fleet: FleetState, names: (assignment: ConfigAssignment) => boolean): ConfigAssignment | undefined {
  const candidates = fleet.assignments.filter(names);
  return candidates.filter((a) => targets(a, agent)).sort(compareAssignments)[0] ?? candidates.find((a) => isFallback(a));
}

/** The agent's configuration: as assigned, else the configuration named `default`. */
export function resolveConfigTarget(agent: TargetAgent, fleet: FleetState): ConfigTarget | undefined {
  return configTargetOf(
    resolveAssignment(agent, fleet, (a) => a.config !== undefined),
    fleet,
  );
}

function configTargetOf(winner: ConfigAssignment | undefined, fleet: FleetState): ConfigTarget | undefined {
  if (winner?.config !== undefined) return { configName: winner.config, via: winner.name, config: fleet.configs.get(winner.config) };
  const fallback = fleet.configs.get(DEFAULT_CONFIG_NAME);
  return fallback ? { configName: DEFAULT_CONFIG_NAME, via: DEFAULT_CONFIG_NAME, config: fallback } : undefined;
}

export interface PackagesTarget {
  spec: PackageSetSpec;
  via: string;
  rollout?: StagedBy | undefined;
}

/** The agent's package set, if any assignment gives it one. */
export function resolvePackagesTarget(agent: TargetAgent, fleet: FleetState): PackagesTarget | undefined {
  return packagesTargetOf(resolveAssignment(agent, fleet, (a) => a.packages !== undefined));
}

function packagesTargetOf(winner: ConfigAssignment | undefined): PackagesTarget | undefined {
  return winner?.packages ? { spec: winner.packages, via: winner.name } : undefined;
}

export interface SettingsTarget {
  name: string;
  via: string;
  /** Undefined when the named document does not exist (yet): nothing of it is offered then. */
  spec: ConnectionSettingsSpec | undefined;
}

/** The agent's connection settings document: as assigned, else the one named `default`. */
export function resolveSettingsTarget(agent: TargetAgent, fleet: FleetState): SettingsTarget | undefined {
  return settingsTargetOf(
    resolveAssignment(agent, fleet, (a) => a.settings !== undefined),
    fleet,
  );
}

function settingsTargetOf(winner: ConfigAssignment | undefined, fleet: FleetState): SettingsTarget | undefined {
  if (winner?.settings !== undefined) return { name: winner.settings, via: winner.name, spec: fleet.settings.get(winner.settings) };
  const fallback = fleet.settings.get(DEFAULT_SETTINGS_NAME);
  return fallback ? { name: DEFAULT_SETTINGS_NAME, via: DEFAULT_SETTINGS_NAME, spec: fallback } : undefined;
}

/** Every aspect's target for one agent. */
export interface Targets {
  config: ConfigTarget | undefined;
  packages: PackagesTarget | undefined;
  settings: SettingsTarget | undefined;
}

const ASPECTS = ['config', 'packages', 'settings'] as const;

/**
 * The three targets in one pass over the assignments, each assignment's
 * target matched once: the same winners as resolveAssignment per aspect
 * (the least under compareAssignments among those that target the agent,
 * else the first fallback).
 */
export function resolveTargets(agent: TargetAgent, fleet: FleetState): Targets {
  const best: Partial<Record<(typeof ASPECTS)[number], ConfigAssignment>> = {};
  const fallback: Partial<Record<(typeof ASPECTS)[number], ConfigAssignment>> = {};
  for (const assignment of fleet.assignments) {
    if (assignment.config === undefined && assignment.packages === undefined && assignment.settings === undefined) continue;
    const targeted = targets(assignment, agent);
    if (!targeted && !isFallback(assignment)) continue;
    for (const aspect of ASPECTS) {
      if (assignment[aspect] === undefined) continue;
      if (!targeted) fallback[aspect] ??= assignment;
      else if (best[aspect] === undefined || compareAssignments(assignment, best[aspect]) < 0) best[aspect] = assignment;
    }
  }
  const plain = {
    config: configTargetOf(best.config ?? fallback.config, fleet),
    packages: packagesTargetOf(best.packages ?? fallback.packages),
    settings: settingsTargetOf(best.settings ?? fallback.settings, fleet),
  };
  // Agents whose assignments no rollout stages pay two map lookups for the feature.
  if (fleet.rollouts.size === 0) return plain;
  const stageConfig = plain.config !== undefined && stagingRollout(fleet, plain.config.via, 'config') !== undefined;
  const stagePackages = plain.packages !== undefined && stagingRollout(fleet, plain.packages.via, 'packages') !== undefined;
  return stageConfig || stagePackages ? { ...plain, ...stagedTargets(agent, fleet, { config: stageConfig, packages: stagePackages }) } : plain;
}

/**
 * The targets of aspects whose winning assignment a rollout stages: the
 * rollout decides which version the agent gets (see rollouts/staging.ts),
 * and an agent it leaves with nothing falls to the next assignment.
 */
function stagedTargets(agent: TargetAgent, fleet: FleetState, staged: { config: boolean; packages: boolean }): Partial<Targets> {
  const pick = (has: (a: ConfigAssignment) => boolean) => (excluded: ReadonlySet<string>) => resolveAssignment(agent, fleet, (a) => has(a) && !excluded.has(a.name));
  const out: Partial<Targets> = {};
  if (staged.config) {
    const config = stagedWinner(
      fleet,
      agent,
      'config',
      pick((a) => a.config !== undefined),
      fleet.configs.has(DEFAULT_CONFIG_NAME),
    );
    out.config = config.rollout ? stagedConfigTarget(config.rollout, config.side!, config.winner?.name ?? DEFAULT_CONFIG_NAME, fleet) : configTargetOf(config.winner, fleet);
  }
  if (staged.packages) {
    const packages = stagedWinner(
      fleet,
      agent,
      'packages',
      pick((a) => a.packages !== undefined),
      false,
    );
    out.packages = packages.rollout ? stagedPackagesTarget(packages.rollout, packages.side!, packages.winner!.name) : packagesTargetOf(packages.winner);
  }
  return out;
}

function stagedConfigTarget(rollout: Rollout, side: 'to' | 'from', via: string, fleet: FleetState): ConfigTarget | undefined {
  const staged = stagedConfig(rollout[side], fleet);
  return staged ? { configName: staged.name, via, config: staged.config, rollout: { id: rollout.id, side, state: rollout.state } } : undefined;
}

function stagedPackagesTarget(rollout: Rollout, side: 'to' | 'from', via: string): PackagesTarget | undefined {
  const spec = stagedPackages(rollout[side]);
  return spec ? { spec, via, rollout: { id: rollout.id, side, state: rollout.state } } : undefined;
}

function isFallback(assignment: ConfigAssignment): boolean {
  return assignment.name === DEFAULT_ASSIGNMENT_NAME && assignment.instanceUid === undefined && assignment.selector === undefined;
}

function targets(assignment: ConfigAssignment, agent: TargetAgent): boolean {
  if (assignment.instanceUid !== undefined) return assignment.instanceUid === agent.instanceUid;
  if (assignment.selector !== undefined) return matchesSelector(assignment.selector, agent.attributes);
  return false;
}

function compareAssignments(a: ConfigAssignment, b: ConfigAssignment): number {
  const rank = (x: ConfigAssignment) => (x.instanceUid !== undefined ? 1 : 0);
  return rank(b) - rank(a) || b.priority - a.priority || (b.selector?.length ?? 0) - (a.selector?.length ?? 0) || byName(a, b);
}
