import { policyDocumentOf } from '../../core/rollouts/policy.js';
import { describeTarget } from '../../core/rollouts/plan.js';
import type { Rollout, RolloutCounts, RolloutTarget } from '../../core/rollouts/rollout.js';

/** A rollout as the fleet API shows it: hashes in hex, times in ISO 8601, steps counted from 1. */
export interface RolloutView {
  id: string;
  assignment: string;
  aspect: string;
  state: string;
  /** The current step, from 1; 0 before the first step started. */
  step: number;
  steps: number;
  /** Share of the agents the started waves admit, 0 to 1. */
  cutoff: number;
  policy: ReturnType<typeof policyDocumentOf>;
  from: TargetView | null;
  to: TargetView;
  counts: RolloutCounts | null;
  reason: string | null;
  failed: Array<{ instanceUid: string; at: string; reason: string }>;
  failedCount: number;
  bakingSince: string | null;
  timeline: Array<{ at: string; event: string; step: number | null; by: string; detail: string | null }>;
  createdAt: string;
  updatedAt: string;
  evaluatedAt: string | null;
}

type TargetView = { config: string; hash: string; description: string } | { packages: Record<string, string>; description: string };

export function rolloutView(rollout: Rollout): RolloutView {
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    id: rollout.id,
    assignment: rollout.assignment,
    aspect: rollout.aspect,
    state: rollout.state,
    step: rollout.step + 1,
    steps: rollout.policy.steps.length,
    cutoff: rollout.cutoff,
    policy: policyDocumentOf(rollout.policy),
    from: rollout.from ? targetView(rollout.from) : null,
    to: targetView(rollout.to),
    counts: rollout.counts ?? null,
    reason: rollout.reason ?? null,
    failed: rollout.failed.map((f) => ({ instanceUid: f.instanceUid, at: iso(f.at), reason: f.reason })),
    failedCount: rollout.failedCount,
    bakingSince: rollout.goodSince !== undefined ? iso(rollout.goodSince) : null,
    timeline: rollout.timeline.map((e) => ({ at: iso(e.at), event: e.event, step: e.step !== undefined && e.step >= 0 ? e.step + 1 : null, by: e.by, detail: e.detail ?? null })),
    createdAt: iso(rollout.createdAt),
    updatedAt: iso(rollout.updatedAt),
    evaluatedAt: rollout.evaluatedAt !== undefined ? iso(rollout.evaluatedAt) : null,
  };
}

function targetView(target: RolloutTarget): TargetView {
  if (target.kind === 'config') return { config: target.name, hash: Buffer.from(target.hash, 'base64').toString('hex'), description: describeTarget(target) };
  return { packages: { ...target.spec }, description: describeTarget(target) };
}

/** One line per rollout for listings. */
export function rolloutSummary(rollout: Rollout): Pick<RolloutView, 'id' | 'assignment' | 'aspect' | 'state' | 'step' | 'steps' | 'counts' | 'reason' | 'updatedAt'> & { to: string } {
  const view = rolloutView(rollout);
  return {
    id: view.id,
    assignment: view.assignment,
    aspect: view.aspect,
    state: view.state,
    step: view.step,
    steps: view.steps,
    counts: view.counts,
    reason: view.reason,
    updatedAt: view.updatedAt,
    to: view.to.description,
  };
}
