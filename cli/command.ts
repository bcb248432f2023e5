import { readFile } from 'node:fs/promises';
import type { ParseArgsConfig } from 'node:util';
import { CliError } from './api-client.js';
import { checkName } from './validate.js';
import type { ApiClient } from './api-client.js';

/** The one thing commands do with the fleet API. */
export type FleetApi = Pick<ApiClient, 'request'>;

export type OptionSpecs = NonNullable<ParseArgsConfig['options']>;

/**
 * One opampctl command: the words that name it, its arguments and options,
 * and the text `--help` shows. The usage text is data, so that the reference
 * page can be rendered from this table (see usageText in usage.ts).
 */
export interface CommandSpec {
  /** The words that name it: ['config', 'upload'], or ['agents']. */
  words: readonly string[];
  /** Its arguments and options as people type them: `<name> <file>... [--content-type <type>]`. */
  synopsis: string;
  /** What it does, one line or a few. */
  summary: string;
  /** The options it takes besides the global ones. An option not listed here is refused. */
  options?: OptionSpecs;
  /** How many arguments it takes after its words, at least and at most. */
  args: readonly [min: number, max: number];
  run(ctx: CommandContext): Promise<void>;
}

/** The options every command takes. */
export const GLOBAL_OPTIONS = {
  api: { type: 'string' },
  stack: { type: 'string' },
  region: { type: 'string' },
  json: { type: 'boolean', default: false },
  wait: { type: 'string', default: '30' },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies OptionSpecs;

/** Wrong use of a command (an unknown option, a missing argument): exit status 2 with the command's usage. */
export class UsageError extends CliError {
  override readonly name = 'UsageError';

  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message);
  }
}

type OptionValue = string | boolean | Array<string | boolean> | undefined;

/** What a command runs with: the API, its arguments and options, and how to print and wait. */
export class CommandContext {
  constructor(
    readonly api: FleetApi,
    readonly args: readonly string[],
    private readonly values: Record<string, OptionValue>,
    private readonly usage: string,
    readonly out: (line: string) => void,
  ) {}

  get json(): boolean {
    return this.values.json === true;
  }

  get waitSeconds(): number {
    const seconds = Number(this.values.wait);
    if (!Number.isFinite(seconds) || seconds < 0) throw new UsageError('--wait takes a number of seconds', this.usage);
    return seconds;
  }

  /** The value of a string option, if given. */
  option(name: string): string | undefined {
    const value = this.values[name];
    return typeof value === 'string' ? value : undefined;
  }

  /** Every value of an option given more than once, or undefined when it was not given. */
  options(name: string): string[] | undefined {
    const value = this.values[name];
    return Array.isArray(value) ? value.map(String) : undefined;
  }

  flag(name: string): boolean {
    return this.values[name] === true;
  }

  /** The argument at `index`; a usage error naming `what` when it is missing. */
  arg(index: number, what: string): string {
    const value = this.args[index];
    if (!value) throw this.usageError(`missing argument: ${what}`);
    return value;
  }

  /** The argument at `index` as a `kind` name (configuration, token, ...), checked with the server's rules. */
  nameArg(kind: string, index = 0): string {
    const name = this.arg(index, '<name>');
    checkName(kind, name);
    return name;
  }

  /** The option's value; a usage error when it is missing. */
  requiredOption(name: string, what: string): string {
    const value = this.option(name);
    if (value === undefined || value === '') throw this.usageError(`missing option --${name} ${what}`);
    return value;
  }

  integerOption(name: string): number | undefined {
    const text = this.option(name);
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!Number.isInteger(n)) throw this.usageError(`--${name} takes an integer`);
    return n;
  }

  usageError(message: string): UsageError {
    return new UsageError(message, this.usage);
  }

  /** JSON with --json, else the text for people. */
  print(data: unknown, human: () => string): void {
    this.out(this.json ? JSON.stringify(data, null, 2) : human());
  }

  /** What a write reports: `recorded` once waited for, `accepted` when told not to wait. */
  get writeStatus(): 'recorded' | 'accepted' {
    return this.waitSeconds > 0 ? 'recorded' : 'accepted';
  }

  /** Writes go to the bucket first; this waits until the ingest has recorded them. */
  async waitFor(what: string, done: () => Promise<boolean>): Promise<void> {
    const seconds = this.waitSeconds;
    if (seconds === 0) return;
    const deadline = Date.now() + seconds * 1000;
    while (!(await done())) {
      if (Date.now() > deadline) throw new CliError(`${what} was accepted but not recorded within ${seconds}s (is the bucket ingest running?)`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /** Deletes what `path` names, waits until it no longer answers, and says so. */
  async remove(path: string, what: string): Promise<void> {
    await this.api.request('DELETE', path);
    await this.waitFor(`removal of ${what}`, async () =>
      this.api.request('GET', path).then(
        () => false,
        () => true,
      ),
    );
    this.print({ name: decodeURIComponent(path.slice(path.lastIndexOf('/') + 1)), status: 'removed' }, () => `${what} removed`);
  }
}

export async function readBytes(path: string): Promise<Buffer> {
  return readFile(path).catch((error: Error) => {
    throw new CliError(`cannot read ${path}: ${error.message}`);
  });
}

export async function readText(path: string): Promise<string> {
  return (await readBytes(path)).toString('utf8');
}

/** A path segment for a name, as the API expects it. */
export function at(base: string, ...names: string[]): string {
  return [base, ...names.map(encodeURIComponent)].join('/');
}
