import { SelectorSyntaxError } from './errors.js';

/**
 * Attribute selectors: `key=value` terms joined by commas, all of which must
 * hold (`service.name=checkout,deployment.environment=prod`). A value may
 * contain `=`; it may not contain a comma. Keys and values are compared as
 * text, exactly, after trimming surrounding spaces.
 */
export type Selector = ReadonlyArray<{ key: string; value: string }>;

export function parseSelector(text: string): Selector {
  const terms = text
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
  if (terms.length === 0) throw new SelectorSyntaxError('selector is empty: expected key=value[,key=value...]');
  return terms.map((term) => {
    const eq = term.indexOf('=');
    const key = eq < 0 ? '' : term.slice(0, eq).trim();
    if (eq < 0 || key.length === 0) {
      throw new SelectorSyntaxError(`selector term "${term}" is not key=value`);
    }
    return { key, value: term.slice(eq + 1).trim() };
  });
}

export function formatSelector(selector: Selector): string {
  return selector.map(({ key, value }) => `${key}=${value}`).join(',');
}

export function matchesSelector(selector: Selector, attributes: Readonly<Record<string, string>>): boolean {
  return selector.every(({ key, value }) => attributes[key] === value);
}
