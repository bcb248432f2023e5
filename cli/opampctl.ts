import { parseArgs } from 'node:util';
import { ApiClient, resolveApiTarget } from './api-client.js';
import { CommandContext, GLOBAL_OPTIONS, UsageError } from './command.js';
import type { FleetApi, OptionSpecs } from './command.js';
import { COMMANDS, findCommand, subcommands } from './commands/index.js';
import { commandLine, commandUsage, usageText } from './usage.js';

export { COMMANDS } from './commands/index.js';
export { commandUsage, usageText } from './usage.js';
export { UsageError } from './command.js';

/** Every option any command takes: enough to tell option values from command words on a first pass. */
const ALL_OPTIONS: OptionSpecs = Object.assign({}, GLOBAL_OPTIONS, ...COMMANDS.map((c) => c.options ?? {}));

/**
 * Runs one opampctl command line. The command's words select its entry in
 * the command table; its arguments and options are then parsed with that
 * entry's options only, so that an option it does not take is a usage error
 * rather than silently ignored.
 */
export async function main(argv: string[], out: (line: string) => void = console.log): Promise<void> {
  const words = firstPass(argv);
  const command = findCommand(words);
  if (!command) {
    if (words.length === 0 || argv.includes('--help') || argv.includes('-h')) return void out(usageText());
    const subs = subcommands(words[0]!);
    const message =
      subs.length > 0
        ? `${words[0]} takes ${subs.join(', ')}${COMMANDS.some((c) => c.words.join(' ') === words[0]) ? ' (or nothing)' : ''}`
        : `unknown command "${words[0]}" (opampctl --help lists them)`;
    throw new UsageError(message, usageText());
  }
  const usage = commandUsage(command);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { ...GLOBAL_OPTIONS, ...command.options } });
  } catch (error) {
    throw new UsageError(optionProblem(error as Error & { code?: string }, command.words.join(' ')), usage);
  }
  const { values, positionals } = parsed;
  if (values.help) return void out(usage);
  const args = positionals.slice(command.words.length);
  const [min, max] = command.args;
  if (args.length > max) {
    const subs = command.words.length === 1 ? subcommands(command.words[0]!) : [];
    throw new UsageError(subs.length > 0 ? `${command.words[0]} takes ${subs.join(', ')} (or nothing)` : `too many arguments: ${args.slice(max).join(' ')}`, usage);
  }
  // Where the API is (which may take a CloudFormation call) is found on the first request, after the arguments were checked.
  const target = { api: values.api as string | undefined, stack: values.stack as string | undefined, region: values.region as string | undefined };
  let client: Promise<ApiClient> | undefined;
  const api: FleetApi = {
    request: async (method, path, body) => (await (client ??= resolveApiTarget(target).then((t) => new ApiClient(t)))).request(method, path, body),
  };
  const ctx = new CommandContext(api, args, values, usage, out);
  if (args.length < min) throw ctx.usageError(`missing argument: ${commandLine(command)}`);
  void ctx.waitSeconds; // a bad --wait is a usage error before anything is sent
  await command.run(ctx);
}

/**
 * The leading command words, read with every option known. Not strict: an
 * option no command takes is reported by the second pass, with the usage of
 * the command it was given to.
 */
function firstPass(argv: string[]): string[] {
  return parseArgs({ args: argv, allowPositionals: true, strict: false, options: ALL_OPTIONS }).positionals;
}

/** A parse failure in a few words: `agents does not take --force`, `--limit needs a value`. */
function optionProblem(error: Error & { code?: string }, command: string): string {
  const option = /'(--?[^'\s]+)/.exec(error.message)?.[1];
  if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option) return `${command} does not take ${option}`;
  if (error.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option) {
    return error.message.includes('does not take an argument') ? `${option} takes no value` : `${option} needs a value`;
  }
  return error.message.split('\n')[0]!;
}
