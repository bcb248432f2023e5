import { Hono } from 'hono';
import type { Context } from 'hono';
import type { RolloutAction } from '../../core/rollouts/control.js';
import type { RolloutAspect } from '../../core/rollouts/rollout.js';
import { NotFoundError } from '../../service/admin/deps.js';
import type { RolloutEngine } from '../../service/rollouts/rollout-engine.js';
import { rolloutSummary, rolloutView } from '../../service/rollouts/rollout-view.js';
import { pathParams } from '../validation.js';

const one = pathParams({ assignment: 'assignment', aspect: 'rollout-aspect' });
const action = pathParams({ assignment: 'assignment', aspect: 'rollout-aspect', action: 'rollout-action' });

export interface RolloutsApiOptions {
  /** Who is calling (the IAM principal in AWS, `local` locally), for the timeline and the audit log. */
  principal: (c: Context) => string;
}

/**
 * /api/v1/rollouts: staged rollouts, one per assignment and aspect
 * (`config` or `packages`). Looking at a running rollout evaluates it, so
 * that a step whose gates hold moves on when someone looks.
 */
export function rolloutsApi(engine: RolloutEngine, options: RolloutsApiOptions): Hono {
  const api = new Hono();
  api.get('/', async (c) => c.json({ rollouts: (await engine.list()).map(rolloutSummary) }));
  api.get('/:assignment/:aspect', one, async (c) => {
    const { assignment, aspect } = c.req.valid('param') as { assignment: string; aspect: RolloutAspect };
    const rollout = await engine.get(assignment, aspect);
    if (!rollout) throw missing(assignment, aspect);
    return c.json(rolloutView(rollout));
  });
  api.post('/:assignment/:aspect/:action', action, async (c) => {
    const { assignment, aspect, action } = c.req.valid('param') as { assignment: string; aspect: RolloutAspect; action: RolloutAction };
    const rollout = await engine.act(assignment, aspect, action, options.principal(c));
    if (!rollout) throw missing(assignment, aspect);
    return c.json(rolloutView(rollout));
  });
  return api;
}

function missing(assignment: string, aspect: string): NotFoundError {
  return new NotFoundError(`no rollout of the ${aspect === 'config' ? 'configuration' : 'package set'} of assignment ${assignment}: it has no rollout policy, or nothing changed since it got one`);
}
