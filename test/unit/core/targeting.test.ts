import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { selectorAttributes } from '../../../functions/core/attributes.js';
import type { ConfigAssignment } from '../../../functions/core/fleet.js';
import { buildFleetState } from '../../../functions/core/fleet.js';
import { configToOffer } from '../../../functions/core/remote-config.js';
import { parseSelector } from '../../../functions/core/selector.js';
import { resolveConfigTarget } from '../../../functions/core/targeting.js';
import type { TargetAgent } from '../../../functions/core/targeting.js';
import { description } from '../../support/messages.js';
import { FULL_CAPS, POLICY, config, file, fleet, selectorAssignment, uidAssignment } from './fleet-fixtures.js';
import { T0 } from './fixtures.js';

const UID = '0192f9e4-8a1b-7c3d-9e4f-a1b2c3d4e5f6';
const OTHER_UID = '0192f9e4-8a1b-7c3d-9e4f-000000000000';

/** The agent as the poll path sees it: attributes flattened from its description, as AgentRecord.attributes holds them. */
function agent(identifying: Record<string, string>, nonIdentifying: Record<string, string> = {}, instanceUid = UID): TargetAgent {
  return { instanceUid, attributes: selectorAttributes(description(identifying, nonIdentifying)) };
}

const CHECKOUT_PROD = agent({ 'service.name': 'checkout' }, { 'deployment.environment': 'prod', 'os.type': 'linux' });
const CONFIGS = ['default', 'a', 'b', 'c'].map((name) => config(name));

describe('resolveConfigTarget', () => {
  describe('precedence', () => {
    it.each<[string, ConfigAssignment[], string]>([
      ['an instance uid assignment beats a selector of higher priority', [selectorAssignment('by-selector', 'a', 'service.name=checkout', 1_000), uidAssignment('by-uid', 'b', UID)], 'by-uid'],
      [
        'an instance uid assignment beats a more specific selector',
        [selectorAssignment('by-selector', 'a', 'service.name=checkout,deployment.environment=prod,os.type=linux'), uidAssignment('z-by-uid', 'b', UID)],
        'z-by-uid',
      ],
      ['higher priority wins', [selectorAssignment('low', 'a', 'service.name=checkout', 1), selectorAssignment('high', 'b', 'service.name=checkout', 5)], 'high'],
      ['priority 0 beats a negative priority', [selectorAssignment('negative', 'a', 'service.name=checkout', -1), selectorAssignment('zero', 'b', 'service.name=checkout')], 'zero'],
      [
        'priority beats the number of terms',
        [selectorAssignment('specific', 'a', 'service.name=checkout,deployment.environment=prod,os.type=linux', 0), selectorAssignment('urgent', 'b', 'service.name=checkout', 1)],
        'urgent',
      ],
      [
        'equal priority: more selector terms win',
        [selectorAssignment('a-broad', 'a', 'service.name=checkout', 3), selectorAssignment('z-narrow', 'b', 'service.name=checkout,deployment.environment=prod', 3)],
        'z-narrow',
      ],
      [
        'equal priority and terms: the alphabetically first name wins',
        [selectorAssignment('beta', 'a', 'service.name=checkout', 3), selectorAssignment('alpha', 'b', 'deployment.environment=prod', 3), selectorAssignment('gamma', 'c', 'os.type=linux', 3)],
        'alpha',
      ],
      ['two uid assignments: priority, then name', [uidAssignment('uid-b', 'a', UID, 1), uidAssignment('uid-a', 'b', UID, 1), uidAssignment('uid-c', 'c', UID, 0)], 'uid-a'],
      [
        'a non-matching assignment of higher priority does not count',
        [selectorAssignment('cart', 'a', 'service.name=cart', 100), selectorAssignment('checkout', 'b', 'service.name=checkout', 0)],
        'checkout',
      ],
      ['an assignment for another instance uid does not count', [uidAssignment('someone-else', 'a', OTHER_UID, 100), selectorAssignment('checkout', 'b', 'service.name=checkout')], 'checkout'],
    ])('%s', (_name, assignments, expectedVia) => {
      // Prepare
      const state = fleet(CONFIGS, assignments);

      // Act
      const result = resolveConfigTarget(CHECKOUT_PROD, state);

      // Assess
      const winner = assignments.find((a) => a.name === expectedVia)!;
      expect(result).toEqual({ configName: winner.config, via: expectedVia, config: state.configs.get(winner.config!) });
    });
  });

  describe('selectors', () => {
    it.each<[string, string, boolean]>([
      ['an identifying attribute', 'service.name=checkout', true],
      ['a non-identifying attribute', 'deployment.environment=prod', true],
      ['both kinds together (all terms hold)', 'service.name=checkout,deployment.environment=prod', true],
      ['three terms that all hold', 'service.name=checkout,deployment.environment=prod,os.type=linux', true],
      ['one term of two fails', 'service.name=checkout,deployment.environment=staging', false],
      ['a value that differs in case only', 'service.name=Checkout', false],
      ['an attribute the agent does not have', 'team=payments', false],
      ['an empty value against an attribute the agent does not have', 'team=', false],
    ])('%s: %s matches = %s', (_name, selector, matches) => {
      // Prepare
      const state = fleet(CONFIGS, [selectorAssignment('sel', 'a', selector)]);

      // Act
      const result = resolveConfigTarget(CHECKOUT_PROD, state);

      // Assess
      expect(result?.via).toBe(matches ? 'sel' : 'default');
    });

    it('matches an identifying attribute that shadows a non-identifying one of the same key', () => {
      // Prepare
      const both = agent({ 'service.name': 'checkout' }, { 'service.name': 'shadowed' });
      const state = fleet(CONFIGS, [selectorAssignment('shadowed', 'a', 'service.name=shadowed'), selectorAssignment('real', 'b', 'service.name=checkout')]);

      // Act
      const result = resolveConfigTarget(both, state);

      // Assess
      expect(result?.via).toBe('real');
    });
  });

  describe('assignments that name no configuration', () => {
    it('take no part in choosing the configuration, whatever their priority', () => {
      // Prepare
      const packagesOnly: ConfigAssignment = { name: 'agent-upgrade', selector: parseSelector('service.name=checkout'), priority: 100, packages: { '': '1.0.0' } };
      const state = fleet(CONFIGS, [packagesOnly, selectorAssignment('checkout', 'a', 'service.name=checkout')]);

      // Act
      const result = resolveConfigTarget(CHECKOUT_PROD, state);

      // Assess
      expect(result?.via).toBe('checkout');
    });
  });

  describe('the default configuration', () => {
    it('targets an agent that matches no assignment', () => {
      // Prepare
      const state = fleet(CONFIGS, [selectorAssignment('cart', 'a', 'service.name=cart')]);

      // Act
      const result = resolveConfigTarget(CHECKOUT_PROD, state);

      // Assess
      expect(result).toEqual({ configName: 'default', via: 'default', config: state.configs.get('default') });
    });

    it('does not target an agent that an assignment matches', () => {
      // Prepare
      const state = fleet(CONFIGS, [selectorAssignment('checkout', 'a', 'service.name=checkout')]);

      // Act
      const result = resolveConfigTarget(CHECKOUT_PROD, state);

      // Assess
      expect(result?.configName).toBe('a');
    });

    it('leaves an agent without target when nothing matches and there is no default', () => {
      // Prepare
      const state = fleet([config('a')], [selectorAssignment('cart', 'a', 'service.name=cart')]);

      // Act
      const result = resolveConfigTarget(CHECKOUT_PROD, state);

      // Assess
      expect(result).toBeUndefined();
    });
  });

  describe('an assignment to a configuration that does not exist', () => {
    it('holds: the target names the configuration with no config, and the default is not used', () => {
      // Prepare
      const state = fleet(CONFIGS, [selectorAssignment('future', 'not-uploaded-yet', 'service.name=checkout')]);

      // Act
      const result = resolveConfigTarget(CHECKOUT_PROD, state);

      // Assess
      expect(result).toEqual({ configName: 'not-uploaded-yet', via: 'future', config: undefined });
    });

    it('leads to nothing being offered', () => {
      // Prepare
      const state = fleet(CONFIGS, [uidAssignment('future', 'not-uploaded-yet', UID)]);
      const result = resolveConfigTarget(CHECKOUT_PROD, state);

      // Act
      const offered = configToOffer({ capabilities: FULL_CAPS, reported: undefined, offer: undefined, target: result, now: T0, policy: POLICY });

      // Assess
      expect(offered).toBeUndefined();
    });
  });

  describe('assignments that never validated', () => {
    it('do not match, whatever they once were meant to say', () => {
      // Prepare
      const state = buildFleetState(
        '1',
        [
          { ...file('default', 'c.yaml'), configName: 'default' },
          { ...file('a', 'c.yaml'), configName: 'a' },
        ],
        [{ name: 'broken', error: 'assignments/broken.json: not valid JSON' }],
      );

      // Act
      const result = resolveConfigTarget(CHECKOUT_PROD, state);

      // Assess
      expect(state.assignments).toEqual([]);
      expect(result?.via).toBe('default');
    });

    it('whereas one whose latest upload was rejected keeps matching with its last valid content', () => {
      // Prepare
      const state = buildFleetState(
        '1',
        [
          { ...file('default', 'c.yaml'), configName: 'default' },
          { ...file('a', 'c.yaml'), configName: 'a' },
        ],
        [{ name: 'route', assignment: { name: 'route', config: 'a', selector: parseSelector('service.name=checkout'), priority: 0 }, error: 'assignments/route.json: bad' }],
      );

      // Act
      const result = resolveConfigTarget(CHECKOUT_PROD, state);

      // Assess
      expect(result?.via).toBe('route');
      expect(state.assignments[0]?.error).toBe('assignments/route.json: bad');
    });
  });

  describe('properties', () => {
    const KEYS = ['service.name', 'env', 'region'] as const;
    const VALUES = ['x', 'y'] as const;
    const termArb = fc.record({ key: fc.constantFrom(...KEYS), value: fc.constantFrom(...VALUES) });
    const assignmentArb = fc.record({
      config: fc.constantFrom('a', 'b', 'c', 'missing'),
      priority: fc.integer({ min: -2, max: 2 }),
      target: fc.oneof(fc.record({ uid: fc.constantFrom(UID, OTHER_UID) }), fc.record({ terms: fc.uniqueArray(termArb, { minLength: 1, maxLength: 3, selector: (t) => t.key }) })),
    });
    const scenarioArb = fc
      .uniqueArray(fc.tuple(fc.stringMatching(/^[a-e]{1,3}$/), assignmentArb), { maxLength: 8, selector: ([name]) => name })
      .map((list): ConfigAssignment[] =>
        list.map(([name, a]) => ({
          name,
          config: a.config,
          priority: a.priority,
          ...('uid' in a.target ? { instanceUid: a.target.uid } : { selector: a.target.terms }),
        })),
      )
      .chain((list) => fc.tuple(fc.constant(list), fc.shuffledSubarray(list, { minLength: list.length, maxLength: list.length })));
    const attributesArb = fc.record({ 'service.name': fc.constantFrom(...VALUES), env: fc.constantFrom(...VALUES), region: fc.constantFrom(...VALUES) }, { requiredKeys: [] });

    it('the winner does not depend on the order of the assignments list', () => {
      fc.assert(
        fc.property(scenarioArb, attributesArb, ([assignments, shuffled], attributes) => {
          // Prepare
          const subject: TargetAgent = { instanceUid: UID, attributes: attributes as Record<string, string> };

          // Act
          const inOrder = resolveConfigTarget(subject, fleet(CONFIGS, assignments));
          const inShuffledOrder = resolveConfigTarget(subject, fleet(CONFIGS, shuffled));

          // Assess
          expect(inShuffledOrder).toEqual(inOrder);
        }),
      );
    });

    it('the winner is the best match by (uid, priority, terms, name), or the default when none matches', () => {
      fc.assert(
        fc.property(scenarioArb, attributesArb, ([assignments], attributes) => {
          // Prepare
          const subject: TargetAgent = { instanceUid: UID, attributes: attributes as Record<string, string> };
          const matching = assignments.filter((a) => (a.instanceUid !== undefined ? a.instanceUid === UID : a.selector!.every((t) => (attributes as Record<string, string>)[t.key] === t.value)));
          const key = (a: ConfigAssignment) => [a.instanceUid !== undefined ? 1 : 0, a.priority, a.selector?.length ?? 0] as const;
          const best = matching.reduce<ConfigAssignment | undefined>((champion, a) => {
            if (!champion) return a;
            const [x, y] = [key(a), key(champion)];
            for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! > y[i]! ? a : champion;
            return a.name < champion.name ? a : champion;
          }, undefined);

          // Act
          const result = resolveConfigTarget(subject, fleet(CONFIGS, assignments));

          // Assess
          expect(result?.via).toBe(best?.name ?? 'default');
          expect(result?.config?.name).toBe(best ? (best.config === 'missing' ? undefined : best.config) : 'default');
        }),
      );
    });
  });
});
