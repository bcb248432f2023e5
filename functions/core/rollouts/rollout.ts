import { sha256, stableJson } from '../canonical-hash.js';
import type { ConfigMeta } from '../fleet.js';
import type { PackageSetSpec } from '../packages.js';
import type { RolloutPolicy } from './policy.js';

/*
 * A staged rollout: one change of one assignment's configuration or package
 * set, moving the assignment's agents from `from` to `to` in waves. Each
 * assignment and aspect has one current rollout, stored as one item next to
 * the fleet's other desired state (so that every function instance sees it
 * with the fleet state) and changed only by conditional writes on
 * `revision`, so that every transition happens exactly once whoever observes
 * it first.
 */

export type RolloutAspect = 'config' | 'packages';
export const ROLLOUT_ASPECTS: readonly RolloutAspect[] = ['config', 'packages'];

/**
 * - `running`: the current step's agents have `to`; the others keep `from`;
 * - `paused`: the same, but no step starts until it is resumed;
 * - `completed`: every agent has `to`;
 * - `rolled-back`: every agent has `from` again.
 */
export type RolloutState = 'running' | 'paused' | 'completed' | 'rolled-back';

/**
 * What a rollout moves agents to or from. A configuration is kept with the
 * metadata of the version to serve (its files pointing at copies kept by
 * content hash, so that it can be served whatever the bucket holds now); a
 * package set is its name-to-version map.
 */
export type RolloutTarget = { kind: 'config'; name: string; hash: string; config?: ConfigMeta | undefined } | { kind: 'packages'; spec: PackageSetSpec; hash: string };

/** The identity of a package set spec, to tell a change from none. */
export function packageSpecHash(spec: PackageSetSpec): string {
  return sha256(stableJson(spec)).toString('base64');
}

export interface RolloutCounts {
  /** Agents whose assignment this is, that can take the change. */
  targeted: number;
  /** Agents of the waves started so far. */
  admitted: number;
  /** Admitted agents offered the change, with no report on it yet. */
  offered: number;
  applying: number;
  /** Applied, healthy and polling, not yet for the whole bake time. */
  applied: number;
  /** Applied, healthy and polling for the whole bake time of their step. */
  good: number;
  failed: number;
  /** Admitted agents that stopped polling for longer than their interval allows. */
  silent: number;
  /** Admitted agents that have not been offered the change yet. */
  pending: number;
  /** Agents of the assignment that do not take this kind of change (not counted in `targeted`). */
  notAccepted: number;
}

export type TimelineEvent = 'created' | 'step-started' | 'step-good' | 'paused' | 'resumed' | 'completed' | 'rolled-back' | 'promoted' | 'aborted' | 'superseded';

export interface TimelineEntry {
  at: number;
  event: TimelineEvent;
  /** The step (0-based) the event concerns. */
  step?: number | undefined;
  /** Who did it: `rollout-engine` for transitions the gates decided, else the caller's principal. */
  by: string;
  detail?: string | undefined;
}

/** At most this many timeline entries and failed agents are kept with a rollout (counts stay exact). */
export const TIMELINE_LIMIT = 60;
export const FAILED_AGENTS_LIMIT = 200;

export interface FailedAgent {
  instanceUid: string;
  at: number;
  reason: string;
}

export interface Rollout {
  assignment: string;
  aspect: RolloutAspect;
  /** Counts the rollouts of this assignment and aspect, from 1. */
  seq: number;
  /** Unique to this rollout: `<assignment>.<aspect>.<seq>`; it seeds the wave order. */
  id: string;
  policy: RolloutPolicy;
  /** What the agents had; undefined when the assignment gave them nothing before (they keep what other assignments give them). */
  from?: RolloutTarget | undefined;
  to: RolloutTarget;
  state: RolloutState;
  /** The current step (0-based), once started; -1 before the first step starts. */
  step: number;
  /** Agents whose wave position is at most this are admitted (0: none yet; 1: all). */
  cutoff: number;
  stepStartedAt?: number | undefined;
  /** Since when every admitted agent has been good (the bake timer); unset while one is not. */
  goodSince?: number | undefined;
  /** Agents that failed in this rollout (bounded); a failed agent stays failed. */
  failed: FailedAgent[];
  failedCount: number;
  /** Failures acknowledged by a resume: only failures beyond these count against `maxFailed`. */
  acknowledgedFailures: number;
  /** Why the rollout paused or rolled back. */
  reason?: string | undefined;
  counts?: RolloutCounts | undefined;
  evaluatedAt?: number | undefined;
  timeline: TimelineEntry[];
  createdAt: number;
  updatedAt: number;
  /** Grows by one with every write; writes are conditional on it. */
  revision: number;
}

export function rolloutId(assignment: string, aspect: RolloutAspect, seq: number): string {
  return `${assignment}.${aspect}.${seq}`;
}

/** Appends to the timeline, keeping the first entry (its creation) and the newest. */
export function withEvent(rollout: Rollout, entry: TimelineEntry): TimelineEntry[] {
  const timeline = [...rollout.timeline, entry];
  return timeline.length > TIMELINE_LIMIT ? [timeline[0]!, ...timeline.slice(timeline.length - TIMELINE_LIMIT + 1)] : timeline;
}
