import { describe, expect, it } from 'vitest';
import { SelectorSyntaxError } from '../../../functions/core/errors.js';
import { formatSelector, matchesSelector, parseSelector } from '../../../functions/core/selector.js';

describe('parseSelector', () => {
  it.each([
    ['service.name=checkout', [{ key: 'service.name', value: 'checkout' }]],
    [
      'service.name=checkout,deployment.environment=prod',
      [
        { key: 'service.name', value: 'checkout' },
        { key: 'deployment.environment', value: 'prod' },
      ],
    ],
    [
      ' service.name = checkout , os.type=linux ',
      [
        { key: 'service.name', value: 'checkout' },
        { key: 'os.type', value: 'linux' },
      ],
    ],
    ['url=https://x?a=b', [{ key: 'url', value: 'https://x?a=b' }]],
    ['a=', [{ key: 'a', value: '' }]],
    [
      'a=b,,c=d,',
      [
        { key: 'a', value: 'b' },
        { key: 'c', value: 'd' },
      ],
    ],
  ])('parses %j', (text, expected) => {
    // Act
    const selector = parseSelector(text);

    // Assess
    expect(selector).toEqual(expected);
  });

  it.each([
    ['', /empty/],
    ['   ', /empty/],
    [',,', /empty/],
    ['service.name', /"service.name" is not key=value/],
    ['=checkout', /"=checkout" is not key=value/],
    ['  =checkout', /is not key=value/],
    ['a=b,c', /"c" is not key=value/],
  ])('rejects %j with a SelectorSyntaxError', (text, message) => {
    // Act
    const act = () => parseSelector(text);

    // Assess
    expect(act).toThrow(SelectorSyntaxError);
    expect(act).toThrow(message);
  });
});

describe('formatSelector', () => {
  it('formats what parseSelector reads back', () => {
    // Prepare
    const selector = parseSelector(' a = 1 , b=x=y ');

    // Act
    const text = formatSelector(selector);

    // Assess
    expect(text).toBe('a=1,b=x=y');
    expect(parseSelector(text)).toEqual(selector);
  });
});

describe('matchesSelector', () => {
  const attributes = { 'service.name': 'checkout', 'deployment.environment': 'prod', empty: '' };

  it.each([
    ['service.name=checkout', true],
    ['service.name=checkout,deployment.environment=prod', true],
    ['service.name=checkout,deployment.environment=dev', false],
    ['service.name=Checkout', false],
    ['service.name=check', false],
    ['missing=', false],
    ['empty=', true],
    ['toString=x', false],
    ['constructor=function Object() { [native code] }', false],
  ])('%s → %s', (text, expected) => {
    // Prepare
    const selector = parseSelector(text);

    // Act
    const matched = matchesSelector(selector, attributes);

    // Assess
    expect(matched).toBe(expected);
  });
});
