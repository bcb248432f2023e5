import { describe, expect, it } from 'vitest';
import { AssignmentFileError, parseAssignment, validateAssignment } from '../../../functions/core/assignment-file.js';
import type { ConfigAssignment } from '../../../functions/core/fleet.js';

const UID = '0192f9e4-8a1b-7c3d-9e4f-a1b2c3d4e5f6';

describe('parseAssignment', () => {
  it.each<[string, string, Omit<ConfigAssignment, 'error'>]>([
    [
      'a selector string with a priority',
      '{"config": "checkout", "selector": "service.name=checkout,deployment.environment=prod", "priority": 10}',
      {
        name: 'route',
        config: 'checkout',
        priority: 10,
        selector: [
          { key: 'service.name', value: 'checkout' },
          { key: 'deployment.environment', value: 'prod' },
        ],
      },
    ],
    [
      'a selector object',
      '{"config": "checkout", "selector": {"service.name": "checkout", "deployment.environment": "prod"}}',
      {
        name: 'route',
        config: 'checkout',
        priority: 0,
        selector: [
          { key: 'service.name', value: 'checkout' },
          { key: 'deployment.environment', value: 'prod' },
        ],
      },
    ],
    [
      'a selector value containing "="',
      '{"config": "checkout", "selector": "url=https://x?a=b"}',
      { name: 'route', config: 'checkout', priority: 0, selector: [{ key: 'url', value: 'https://x?a=b' }] },
    ],
    ['an instance uid, lower-cased', `{"config": "canary", "instanceUid": "${UID.toUpperCase()}"}`, { name: 'route', config: 'canary', priority: 0, instanceUid: UID }],
    ['priority defaults to 0', `{"config": "a", "instanceUid": "${UID}"}`, { name: 'route', config: 'a', priority: 0, instanceUid: UID }],
    ['a negative priority', '{"config": "a", "selector": "k=v", "priority": -5}', { name: 'route', config: 'a', priority: -5, selector: [{ key: 'k', value: 'v' }] }],
    ['an integral float priority', '{"config": "a", "selector": "k=v", "priority": 3.0}', { name: 'route', config: 'a', priority: 3, selector: [{ key: 'k', value: 'v' }] }],
    [
      'a config name of 128 allowed characters',
      `{"config": "${'a.b_c-9'.repeat(18).slice(0, 128)}", "selector": "k=v"}`,
      { name: 'route', config: 'a.b_c-9'.repeat(18).slice(0, 128), priority: 0, selector: [{ key: 'k', value: 'v' }] },
    ],
  ])('reads %s', (_name, text, expected) => {
    // Act
    const assignment = parseAssignment('route', text);

    // Assess
    expect(assignment).toEqual(expected);
  });

  it.each<[string, string, RegExp]>([
    ['invalid JSON', '{"config": "a", ', /^not valid JSON: /],
    ['an empty file', '', /^not valid JSON: /],
    ['JSON that is not an object', '["a"]', /expected object/i],
    ['JSON null', 'null', /expected object/i],
    ['an unknown field', '{"config": "a", "selector": "k=v", "prio": 1}', /prio/],
    ['a misspelt field', `{"config": "a", "instanceUID": "${UID}"}`, /instanceUID/],
    ['both selector and instanceUid', `{"config": "a", "selector": "k=v", "instanceUid": "${UID}"}`, /exactly one of "selector" and "instanceUid"/],
    ['neither selector nor instanceUid', '{"config": "a", "priority": 1}', /exactly one of "selector" and "instanceUid"/],
    ['no config', '{"selector": "k=v"}', /"config"/],
    ['a config name with a space', '{"config": "my config", "selector": "k=v"}', /^config: must be a configuration name/],
    ['a config name with a slash', '{"config": "../etc", "selector": "k=v"}', /^config: must be a configuration name/],
    ['an empty config name', '{"config": "", "selector": "k=v"}', /^config: must be a configuration name/],
    ['a config name longer than 128', `{"config": "${'a'.repeat(129)}", "selector": "k=v"}`, /^config: must be a configuration name/],
    ['a config name that is a number', '{"config": 7, "selector": "k=v"}', /^config: /],
    ['a uid that is not a UUID', '{"config": "a", "instanceUid": "agent-1"}', /^instanceUid: must be a canonical UUID/],
    ['a uid without dashes', `{"config": "a", "instanceUid": "${UID.replaceAll('-', '')}"}`, /^instanceUid: must be a canonical UUID/],
    ['a non-integer priority', '{"config": "a", "selector": "k=v", "priority": 1.5}', /^priority: /],
    ['a priority given as text', '{"config": "a", "selector": "k=v", "priority": "10"}', /^priority: /],
    ['a priority out of range', '{"config": "a", "selector": "k=v", "priority": 1e12}', /^priority: /],
    ['a selector term without "="', '{"config": "a", "selector": "service.name"}', /^selector: selector term "service.name" is not key=value/],
    ['a selector term without a key', '{"config": "a", "selector": "=checkout"}', /^selector: selector term "=checkout" is not key=value/],
    ['an empty selector', '{"config": "a", "selector": ""}', /^selector: selector is empty/],
    ['an empty selector object', '{"config": "a", "selector": {}}', /^selector: selector is empty/],
    ['a selector object with a number value', '{"config": "a", "selector": {"k": 1}}', /^selector/],
    ['a selector object with an empty key', '{"config": "a", "selector": {"": "x"}}', /^selector: /],
  ])('rejects %s with one readable line', (_name, text, message) => {
    // Act
    const act = () => parseAssignment('route', text);

    // Assess
    expect(act).toThrow(AssignmentFileError);
    expect(act).toThrow(message);
    try {
      act();
    } catch (error) {
      expect((error as Error).message).not.toMatch(/\n/);
      expect((error as Error).message.length).toBeGreaterThan(0);
    }
  });

  it('says why a package name is rejected, not just that the key is invalid', () => {
    // Act
    const act = () => parseAssignment('route', '{"packages": {"bad name": "1.0.0"}}');

    // Assess
    expect(act).toThrow('packages.bad name: package names are letters, digits, ".", "_", "-" (or _agent)');
  });

  it('reports several problems on the same line', () => {
    // Act
    const act = () => parseAssignment('route', '{"config": "bad name", "selector": "k=v", "priority": 0.5}');

    // Assess
    expect(act).toThrow(/config: .*; priority: /);
    expect(act).not.toThrow(/\n/);
  });
});

describe('validateAssignment', () => {
  it('names the assignment after the file, whatever the document says', () => {
    // Act
    const assignment = validateAssignment('from-file-name', { config: 'a', selector: 'k=v' });

    // Assess
    expect(assignment.name).toBe('from-file-name');
  });

  it.each<[string, Record<string, string>]>([
    ['a comma in a value', { 'deployment.environment': 'prod,team=payments' }],
    ['an "=" in a key', { 'team=payments': 'x' }],
  ])('does not turn a selector object with %s into other terms than the ones written', (_name, selector) => {
    // Prepare
    const written = Object.entries(selector).map(([key, value]) => ({ key, value }));

    // Act
    let result: Omit<ConfigAssignment, 'error'> | AssignmentFileError;
    try {
      result = validateAssignment('route', { config: 'a', selector });
    } catch (error) {
      result = error as AssignmentFileError;
    }

    // Assess: either the exact terms, or a readable rejection; never a silently different selector.
    if (result instanceof AssignmentFileError) expect(result.message).toMatch(/^selector/);
    else expect(result.selector).toEqual(written);
  });
});
