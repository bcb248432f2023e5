import type { ConfigMeta, FleetState } from '../../core/fleet.js';
import { deriveLiveness } from '../../core/liveness.js';
import type { LivenessPolicy } from '../../core/liveness.js';
import { NO_PRESENCE } from '../../core/presence.js';
import type { PresenceView } from '../../core/presence.js';
import type { RemoteConfigPolicy } from '../../core/remote-config.js';
import { rolloutAgent, targetedBy, unstaged } from '../../core/rollouts/agent-progress.js';
import { applyAction } from '../../core/rollouts/control.js';
import type { RolloutAction } from '../../core/rollouts/control.js';
import { evaluateRollout, ROLLOUT_ENGINE } from '../../core/rollouts/gates.js';
import type { RolloutAgent } from '../../core/rollouts/gates.js';
import { orphanedRollouts, plannedRollouts, startRollout } from '../../core/rollouts/plan.js';
import type { Rollout, RolloutAspect, RolloutTarget } from '../../core/rollouts/rollout.js';
import { policyFor, rolloutKey } from '../../core/rollouts/staging.js';
import type { Telemetry } from '../../observability/telemetry.js';
import { NO_TELEMETRY } from '../../observability/telemetry.js';
import { everyAgent } from '../../ports/agent-store.js';
import type { AgentStore } from '../../ports/agent-store.js';
import type { FleetStore } from '../../ports/fleet-store.js';
import type { AuditLog } from '../../ports/audit-log.js';
import { rolloutAuditEntry } from './rollout-audit.js';

export interface RolloutEngineDeps {
  fleet: FleetStore;
  agents: Pick<AgentStore, 'list'>;
  presence?: { view(): Promise<PresenceView> } | undefined;
  liveness: LivenessPolicy;
  remoteConfig: RemoteConfigPolicy;
  now: () => number;
  /** A copy of a configuration version kept by content hash, to serve whatever the bucket holds later; undefined when none was kept. */
  keptConfig?: ((name: string, hash: string) => Promise<ConfigMeta | undefined>) | undefined;
  /** Where the engine's own transitions are recorded (operators' actions are recorded by the fleet API). */
  audit?: AuditLog | undefined;
  telemetry?: Telemetry | undefined;
}

/** The rollout was changed by someone else between read and write this many times in a row. */
const MAX_CONFLICTS = 5;

/**
 * Moves staged rollouts along. Nothing runs between calls: the scheduled
 * function (or the local backend's timer) calls `tick`, and fleet API calls
 * evaluate the rollout they look at, so a transition happens when someone
 * observes that its conditions hold. Every write is conditional on the
 * rollout's revision, so a transition observed by two callers at once
 * happens once; the loser reads again and finds nothing left to do.
 */
export class RolloutEngine {
  /** The fleet generation at which nothing was running and nothing was to start, and how many rollouts were paused then. */
  private quiet: { generation: string; paused: number } | undefined;

  constructor(private readonly deps: RolloutEngineDeps) {}

  /**
   * Starts rollouts for changed assignments, then evaluates every running
   * rollout in one pass over the agents. While nothing runs and nothing
   * changed since the last look, a look costs one read.
   */
  async tick(): Promise<{ started: Rollout[]; evaluated: Rollout[] }> {
    if (this.quiet && this.quiet.generation === (await this.deps.fleet.generation())) {
      this.deps.telemetry?.count('RolloutsPaused', this.quiet.paused);
      return { started: [], evaluated: [] };
    }
    const started = await this.reconcile();
    const { state: fleet } = await this.deps.fleet.load();
    const running = [...fleet.rollouts.values()].filter((r) => r.state === 'running');
    const evaluated = running.length > 0 ? await this.evaluateAll(running, fleet) : [];
    const paused = [...fleet.rollouts.values()].filter((r) => r.state === 'paused').length;
    this.deps.telemetry?.count('RolloutsPaused', paused);
    this.quiet = started.length === 0 && running.length === 0 ? { generation: fleet.generation, paused } : undefined;
    return { started, evaluated };
  }

  /** Starts a rollout for every assignment whose target changed, and forgets those of assignments that are gone. */
  async reconcile(): Promise<Rollout[]> {
    const started: Rollout[] = [];
    for (let attempt = 0; attempt < MAX_CONFLICTS; attempt++) {
      const { state: fleet } = await this.deps.fleet.load();
      // A removal that loses a race is tried again at the next look.
      for (const orphan of orphanedRollouts(fleet)) await this.deps.fleet.removeRollout(orphan.assignment, orphan.aspect, orphan.revision);
      const plans = plannedRollouts(fleet);
      if (plans.length === 0) break;
      let conflict = false;
      let staged = false;
      for (const plan of plans) {
        const rollout = startRollout({ ...plan, to: await this.kept(plan.to) }, this.deps.now());
        if (!(await this.deps.fleet.putRollout(rollout))) {
          conflict = true;
          continue;
        }
        started.push(rollout);
        // A change without a policy went out at once (the bucket ingest audited it); its rollout only records it.
        if (plan.policy === undefined) continue;
        staged = true;
        await this.record(rollout, rollout.state === 'completed' ? 'rollout.complete' : 'rollout.start', ROLLOUT_ENGINE);
      }
      // Polls follow only staged rollouts.
      if (staged) await this.deps.fleet.bumpGeneration();
      if (!conflict) break;
    }
    return started;
  }

  /** The current rollout of an assignment's aspect, evaluated first when it is running. */
  async get(assignment: string, aspect: RolloutAspect): Promise<Rollout | undefined> {
    const { state: fleet } = await this.deps.fleet.load();
    const rollout = fleet.rollouts.get(rolloutKey(assignment, aspect));
    if (rollout?.state !== 'running') return rollout;
    return (await this.evaluateAll([rollout], fleet))[0];
  }

  /** The rollouts of staged assignments, and any that has not completed. */
  async list(): Promise<Rollout[]> {
    const { state: fleet } = await this.deps.fleet.load();
    return [...fleet.rollouts.values()].filter((r) => r.state !== 'completed' || policyFor(fleet, r.assignment) !== undefined);
  }

  /** An operator's action; undefined when there is no such rollout. Throws RolloutStateError when it does not apply. */
  async act(assignment: string, aspect: RolloutAspect, action: RolloutAction, by: string): Promise<Rollout | undefined> {
    for (let attempt = 0; attempt < MAX_CONFLICTS; attempt++) {
      const { state: fleet } = await this.deps.fleet.load();
      const rollout = fleet.rollouts.get(rolloutKey(assignment, aspect));
      if (!rollout) return undefined;
      const now = this.deps.now();
      const next = { ...applyAction(rollout, action, by, now), updatedAt: now, revision: rollout.revision + 1 };
      if (!(await this.deps.fleet.putRollout(next))) continue;
      await this.deps.fleet.bumpGeneration();
      this.deps.telemetry?.count(`Rollout${action[0]!.toUpperCase()}${action.slice(1)}`);
      return next;
    }
    throw new Error(`rollout ${assignment}/${aspect} kept changing under the ${action}; try again`);
  }

  private async evaluateAll(rollouts: readonly Rollout[], fleet: FleetState): Promise<Rollout[]> {
    const now = this.deps.now();
    const presence = this.deps.presence ? await this.deps.presence.view() : NO_PRESENCE;
    const plain = unstaged(fleet);
    const agents = new Map<string, RolloutAgent[]>(rollouts.map((r) => [r.id, []]));
    for await (const record of everyAgent(this.deps.agents)) {
      for (const rollout of rollouts) {
        if (!targetedBy(rollout, record, plain)) continue;
        const liveness = deriveLiveness(record, now, this.deps.liveness, presence.lookup(record.instanceUid));
        agents.get(rollout.id)!.push(rolloutAgent(rollout, record, fleet, { policy: this.deps.remoteConfig, now, liveness }));
      }
    }
    let moved = false;
    const out: Rollout[] = [];
    for (const rollout of rollouts) {
      const evaluation = evaluateRollout(rollout, agents.get(rollout.id)!, now);
      if (!evaluation.changed) {
        out.push(evaluation.next);
        continue;
      }
      const next = { ...evaluation.next, updatedAt: now, revision: rollout.revision + 1 };
      // Another caller evaluated it first: its write stands, and this one's view is as good as stale.
      if (!(await this.deps.fleet.putRollout(next))) {
        out.push(rollout);
        continue;
      }
      out.push(next);
      if (evaluation.moved) moved = true;
      if (next.state !== rollout.state || next.step !== rollout.step) await this.noteTransition(rollout, next);
    }
    if (moved) await this.deps.fleet.bumpGeneration();
    return out;
  }

  private async noteTransition(before: Rollout, after: Rollout): Promise<void> {
    const action =
      after.state !== before.state ? { paused: 'rollout.pause', 'rolled-back': 'rollout.rollback', completed: 'rollout.complete', running: 'rollout.resume' }[after.state] : 'rollout.advance';
    const metric =
      after.state !== before.state ? { paused: 'RolloutPaused', 'rolled-back': 'RolloutRolledBack', completed: 'RolloutCompleted', running: 'RolloutResumed' }[after.state] : 'RolloutStepStarted';
    this.deps.telemetry?.count(metric);
    if (after.state === 'paused' || after.state === 'rolled-back') {
      (this.deps.telemetry ?? NO_TELEMETRY).logger.warn(`rollout ${after.id} ${after.state}`, { reason: after.reason, counts: after.counts });
    }
    await this.record(after, action, ROLLOUT_ENGINE);
  }

  private async record(rollout: Rollout, action: string, principal: string): Promise<void> {
    await this.deps.audit?.record(rolloutAuditEntry(rollout, action, principal, this.deps.now()));
  }

  /** The target with a configuration version to serve from its kept copy, when one was kept. */
  private async kept(target: RolloutTarget): Promise<RolloutTarget> {
    if (target.kind !== 'config' || !this.deps.keptConfig) return target;
    const config = await this.deps.keptConfig(target.name, target.hash);
    return config ? { ...target, config } : target;
  }
}

/**
 * After the bucket ingest recorded changes: starts the rollouts they call
 * for, and their first step, without waiting for the next scheduled look.
 */
export async function stageChanges(engine: Pick<RolloutEngine, 'reconcile' | 'tick'>): Promise<void> {
  if ((await engine.reconcile()).some((r) => r.state === 'running')) await engine.tick();
}
