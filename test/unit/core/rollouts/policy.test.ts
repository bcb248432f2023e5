import { describe, expect, it } from 'vitest';
import { parseAssignment } from '../../../../functions/core/assignment-file.js';
import { failuresAllowed, shareOf } from '../../../../functions/core/rollouts/policy.js';

const withRollout = (rollout: unknown, name = 'checkout') => parseAssignment(name, JSON.stringify({ config: 'checkout-v2', selector: 'service.name=checkout', rollout }));

describe('rollout policy in an assignment file', () => {
  it('reads the example policy: percentages, bake time, a failure share and rollback', () => {
    const assignment = withRollout({ steps: [1, 10, 50, 100], bakeSeconds: 300, maxFailed: '5%', onFailure: 'rollback' });
    expect(assignment.rollout).toEqual({ steps: [{ percent: 1 }, { percent: 10 }, { percent: 50 }, { percent: 100 }], bakeSeconds: 300, maxFailed: { percent: 5 }, onFailure: 'rollback' });
  });

  it('takes counts of agents as digit strings, fills in defaults and ends at 100 %', () => {
    const assignment = withRollout({ steps: ['2', '25%'] });
    expect(assignment.rollout).toEqual({ steps: [{ count: 2 }, { percent: 25 }, { percent: 100 }], bakeSeconds: 300, maxFailed: { count: 0 }, onFailure: 'pause' });
  });

  it('reads a number for maxFailed as a count of agents', () => {
    expect(withRollout({ steps: [50], maxFailed: 3 }).rollout).toMatchObject({ maxFailed: { count: 3 } });
  });

  it('lets an assignment opt out of the fleet default with false', () => {
    expect(withRollout(false).rollout).toBe(false);
  });

  it.each([
    [{ steps: [] }, /at least one step/],
    [{ steps: [50, 10] }, /each step must reach more agents/],
    [{ steps: [0] }, /above 0/],
    [{ steps: [150] }, /steps/],
    [{ steps: ['many'] }, /percentage/],
    [{ steps: [10], onFailure: 'explode' }, /onFailure/],
    [{ steps: [10], bakeSeconds: -1 }, /bakeSeconds/],
    [{ steps: [10], speed: 3 }, /speed|Unrecognized/],
  ])('refuses %j with a readable reason', (rollout, reason) => {
    expect(() => withRollout(rollout)).toThrow(reason);
  });

  it('lets the default assignment carry only the fleet default policy, and nobody else', () => {
    expect(parseAssignment('default', JSON.stringify({ rollout: { steps: [10] } })).rollout).toMatchObject({ steps: [{ percent: 10 }, { percent: 100 }] });
    expect(() => parseAssignment('checkout', JSON.stringify({ selector: 'a=b', rollout: { steps: [10] } }))).toThrow(/default assignment/);
  });
});

describe('shares of a fleet', () => {
  it('rounds a percentage up so that a non-empty step has an agent, and caps counts', () => {
    expect(shareOf({ percent: 1 }, 20)).toBe(1);
    expect(shareOf({ percent: 10 }, 25)).toBe(3);
    expect(shareOf({ percent: 100 }, 7)).toBe(7);
    expect(shareOf({ count: 5 }, 3)).toBe(3);
    expect(shareOf({ percent: 10 }, 0)).toBe(0);
  });

  it('rounds the failure allowance down', () => {
    const policy = { steps: [{ percent: 100 }], bakeSeconds: 0, onFailure: 'pause' as const };
    expect(failuresAllowed({ ...policy, maxFailed: { percent: 5 } }, 10)).toBe(0);
    expect(failuresAllowed({ ...policy, maxFailed: { percent: 5 } }, 100)).toBe(5);
    expect(failuresAllowed({ ...policy, maxFailed: { count: 2 } }, 1)).toBe(2);
  });
});
