import type { ConfigAssignment, ConfigMeta, FleetState } from './fleet.js';
import { DEFAULT_ASSIGNMENT_NAME, DEFAULT_CONFIG_NAME, DEFAULT_SETTINGS_NAME } from './fleet.js';
import type { ConnectionSettingsSpec } from './connection-settings.js';
import type { PackageSetSpec } from './packages.js';
import { matchesSelector } from './selector.js';
import { byName } from './compare.js';

export interface TargetAgent {
  instanceUid: string;
  attributes: Readonly<Record<string, string>>;
}

/** Which configuration an agent should run, and why. */
export interface ConfigTarget {
  configName: string;
  /** The assignment that chose it, or `default`. */
  via: string;
  /** Undefined when the assigned configuration does not exist (yet): nothing is offered then. */
  config: ConfigMeta | undefined;
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
  return {
    config: configTargetOf(best.config ?? fallback.config, fleet),
    packages: packagesTargetOf(best.packages ?? fallback.packages),
    settings: settingsTargetOf(best.settings ?? fallback.settings, fleet),
  };
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
