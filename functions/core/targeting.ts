import type { ConfigAssignment, ConfigMeta, FleetState } from './fleet.js';
import { DEFAULT_CONFIG_NAME } from './fleet.js';
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
 * Precedence, highest first:
 * 1. an assignment naming the agent's instance uid;
 * 2. selector assignments that match the agent's attributes, by priority
 *    (higher first), then by the number of selector terms (more specific
 *    first), then by assignment name (alphabetical), so ties always break the
 *    same way on every function instance;
 * 3. the configuration named `default`.
 * An assignment that never passed validation has no target and never matches.
 */
export function resolveConfigTarget(agent: TargetAgent, fleet: FleetState): ConfigTarget | undefined {
  const winner = [...fleet.assignments]
    .filter((a) => targets(a, agent))
    .sort(compareAssignments)[0];
  if (winner) return { configName: winner.config, via: winner.name, config: fleet.configs.get(winner.config) };
  const fallback = fleet.configs.get(DEFAULT_CONFIG_NAME);
  return fallback ? { configName: DEFAULT_CONFIG_NAME, via: DEFAULT_CONFIG_NAME, config: fallback } : undefined;
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
