import type { ConfigAssignment, ConfigMeta, FleetState } from './fleet.js';
import { DEFAULT_ASSIGNMENT_NAME, DEFAULT_CONFIG_NAME } from './fleet.js';
import type { PackageSetSpec } from './packages.js';
import { matchesSelector } from './selector.js';

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
 * The assignment that decides one aspect (configuration, package set) for an
 * agent, among those that name that aspect. Precedence, highest first:
 * 1. an assignment naming the agent's instance uid;
 * 2. selector assignments that match the agent's attributes, by priority
 *    (higher first), then by the number of selector terms (more specific
 *    first), then by assignment name (alphabetical), so ties always break the
 *    same way on every function instance;
 * 3. the assignment named `default` (it has no target).
 */
export function resolveAssignment(
  agent: TargetAgent,
  fleet: FleetState,
  names: (assignment: ConfigAssignment) => boolean,
): ConfigAssignment | undefined {
  const candidates = fleet.assignments.filter(names);
  return candidates.filter((a) => targets(a, agent)).sort(compareAssignments)[0] ??
    candidates.find((a) => isFallback(a));
}

/** The agent's configuration: as assigned, else the configuration named `default`. */
export function resolveConfigTarget(agent: TargetAgent, fleet: FleetState): ConfigTarget | undefined {
  const winner = resolveAssignment(agent, fleet, (a) => a.config !== undefined);
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
  const winner = resolveAssignment(agent, fleet, (a) => a.packages !== undefined);
  return winner?.packages ? { spec: winner.packages, via: winner.name } : undefined;
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
  return rank(b) - rank(a) ||
    b.priority - a.priority ||
    (b.selector?.length ?? 0) - (a.selector?.length ?? 0) ||
    (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}
