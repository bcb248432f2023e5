import { isCertificateRef } from './core/certificate-ref.js';

/**
 * Settings are declared, not read ad hoc: each one is a name, a parser, a
 * default and a description, so that the same declaration validates the
 * environment and writes the configuration reference (scripts/docs/).
 * (Hand-written rather than a schema library: the public agent function loads
 * this module, and every kilobyte there is paid at each cold start.)
 */

/** What a parser makes of a raw value: a value, nothing (use the default), or what it expected instead. */
export type Parsed<T> = { value: T } | { unset: true } | { expected: string };

export interface Parser<T> {
  /** The values it takes, in words, for the reference. */
  readonly accepts: string;
  parse(raw: string): Parsed<T>;
  /** How a value is written in the reference. */
  show(value: T): string;
}

export interface Setting<T> {
  /** The environment variable. */
  name: string;
  parser: Parser<NonNullable<T>>;
  /** The value when the variable is unset (undefined: the setting is off unless set). */
  default: T;
  /** The default in words, when it depends on where the code runs. */
  defaultText?: string | undefined;
  /** What it does, in a sentence or two of Markdown. */
  description: string;
}

export type SettingTable = Readonly<Record<string, Setting<unknown>>>;

/** The values of a table's settings, by key. */
export type SettingValues<S extends SettingTable> = { [K in keyof S]: S[K]['default'] };

/** Declares a setting with a default. */
export function setting<T>(name: string, parser: Parser<NonNullable<T>>, defaultValue: T, description: string, defaultText?: string): Setting<T> {
  return { name, parser, default: defaultValue, description, ...(defaultText !== undefined ? { defaultText } : {}) };
}

/** Declares a setting that is unset (undefined) unless the environment sets it. */
export function optional<T>(name: string, parser: Parser<NonNullable<T>>, description: string): Setting<T | undefined> {
  return { name, parser, default: undefined, description };
}

/** Reads every setting of a table and collects every problem, so that a bad deployment says all that is wrong at once. */
export function readSettings<S extends SettingTable>(env: NodeJS.ProcessEnv, table: S): { values: SettingValues<S>; problems: string[] } {
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, declared] of Object.entries(table)) {
    const { name, parser } = declared;
    const raw = env[name];
    const parsed: Parsed<unknown> = raw === undefined ? { unset: true } : parser.parse(raw);
    values[key] = 'value' in parsed ? parsed.value : declared.default;
    if ('expected' in parsed) problems.push(`${name}: expected ${parsed.expected}, got "${raw}"`);
  }
  return { values: values as SettingValues<S>, problems };
}

const blank = (raw: string) => raw.trim() === '';
const code = (value: string | number | boolean) => `\`${value}\``;

/** A number within bounds (`above` is an exclusive lower bound, for durations that must be positive). */
export function number(rule: { integer?: boolean; min?: number; above?: number; max?: number } = {}): Parser<number> {
  const bounds = [rule.above !== undefined && `> ${rule.above}`, rule.min !== undefined && `>= ${rule.min}`, rule.max !== undefined && `<= ${rule.max}`].filter(Boolean).join(' and ');
  const expected = `${rule.integer ? 'an integer' : 'a number'}${bounds ? ` ${bounds}` : ''}`;
  return {
    accepts:
      rule.min !== undefined && rule.max !== undefined ? `${rule.integer ? 'integer' : 'number'}, ${rule.min} to ${rule.max}` : `${rule.integer ? 'integer' : 'number'}${bounds ? ` ${bounds}` : ''}`,
    parse(raw) {
      if (blank(raw)) return { unset: true };
      const value = Number(raw);
      const bad =
        !Number.isFinite(value) ||
        (rule.integer && !Number.isInteger(value)) ||
        (rule.min !== undefined && value < rule.min) ||
        (rule.above !== undefined && value <= rule.above) ||
        (rule.max !== undefined && value > rule.max);
      return bad ? { expected } : { value };
    },
    show: code,
  };
}

/** Free text; blank counts as unset unless `minLength` asks for characters. */
export function text(rule: { minLength?: number } = {}): Parser<string> {
  const min = rule.minLength ?? 0;
  return {
    accepts: min > 0 ? `text, at least ${min} characters` : 'text',
    parse(raw) {
      if (min === 0 && blank(raw)) return { unset: true };
      return raw.length < min ? { expected: `at least ${min} characters` } : { value: raw };
    },
    show: code,
  };
}

/** Comma-separated values, trimmed, empty items dropped. */
export function list(): Parser<readonly string[]> {
  return {
    accepts: 'comma-separated list',
    parse: (raw) => ({
      value: raw
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean),
    }),
    show: (value) => (value.length === 0 ? 'empty' : code(value.join(','))),
  };
}

/** An http(s) URL, normalised. */
export function httpUrl(): Parser<string> {
  return {
    accepts: '`http://` or `https://` URL',
    parse(raw) {
      if (blank(raw)) return { unset: true };
      try {
        const url = new URL(raw.trim());
        if (url.protocol === 'http:' || url.protocol === 'https:') return { value: url.toString() };
      } catch {
        // an unparsable URL is reported like a wrong scheme
      }
      return { expected: 'an http:// or https:// URL' };
    },
    show: code,
  };
}

/** A certificate reference (see core/certificate-ref.ts). */
export function certificateRef(): Parser<string> {
  return {
    accepts: 'certificate reference',
    parse(raw) {
      if (blank(raw)) return { unset: true };
      return isCertificateRef(raw.trim()) ? { value: raw.trim() } : { expected: 'a certificate reference (bucket:<name>, secretsmanager:<secret id> or file:<directory>)' };
    },
    show: code,
  };
}

export function flag(): Parser<boolean> {
  return {
    accepts: '`true` or `false` (`1`, `0`)',
    parse(raw) {
      if (raw === '') return { unset: true };
      if (raw === 'true' || raw === '1') return { value: true };
      if (raw === 'false' || raw === '0') return { value: false };
      return { expected: 'true or false' };
    },
    show: code,
  };
}

export function choice<T extends string>(choices: readonly T[]): Parser<T> {
  return {
    accepts: choices.map(code).join(', '),
    parse(raw) {
      if (raw === '') return { unset: true };
      return (choices as readonly string[]).includes(raw) ? { value: raw as T } : { expected: `one of ${choices.join(', ')}` };
    },
    show: code,
  };
}
