import { COMMANDS } from './commands/index.js';
import type { CommandSpec } from './command.js';

/** The options every command takes, with what they mean. */
export const GLOBAL_OPTION_HELP: ReadonlyArray<readonly [option: string, meaning: string]> = [
  ['--api <url>', 'fleet API URL (default: $OPAMP_API_URL, else http://127.0.0.1:4320)'],
  ['--stack <name>', "read the fleet API URL from this CloudFormation stack's outputs"],
  ['--region <name>', 'AWS region for --stack and request signing'],
  ['--json', 'print JSON instead of tables'],
  ['--wait <seconds>', 'how long upload, delete, assign and unassign wait to see the change recorded (default 30; 0: do not wait)'],
  ['-h, --help', "this text (after a command: that command's usage)"],
];

const WIDTH = 100;
const COLUMN = 34;

/** How a command is typed: `config upload <name> <file>... [--content-type <type>]`. */
export function commandLine(command: CommandSpec): string {
  return [...command.words, command.synopsis].filter(Boolean).join(' ');
}

/** `opampctl <command line>` and what it does, for a usage error or `<command> --help`. */
export function commandUsage(command: CommandSpec): string {
  return `Usage: opampctl ${commandLine(command)} [options]\n\n${wrap(command.summary, WIDTH - 2)
    .map((l) => `  ${l}`)
    .join('\n')}\n\nOptions:\n${optionLines()}`;
}

/** The whole usage text: every command from the command table, then the global options. */
export function usageText(): string {
  const commands = COMMANDS.flatMap((command) => {
    const line = commandLine(command);
    const summary = wrap(command.summary, WIDTH - COLUMN);
    const indent = ' '.repeat(COLUMN);
    if (line.length + 2 < COLUMN) return [`  ${line.padEnd(COLUMN - 2)}${summary[0]}`, ...summary.slice(1).map((s) => indent + s)];
    return [...wrap(line, WIDTH - 2).map((l, i) => `${i === 0 ? '  ' : '         '}${l}`), ...summary.map((s) => indent + s)];
  });
  return ['opampctl: manage an OpAMP fleet through its fleet API', '', 'Usage: opampctl <command> [arguments] [options]', '', 'Commands:', ...commands, '', 'Options:', optionLines(), ''].join('\n');
}

function optionLines(): string {
  return GLOBAL_OPTION_HELP.flatMap(([option, meaning]) => {
    const [first, ...rest] = wrap(meaning, WIDTH - 20);
    return [`  ${option.padEnd(18)}${first}`, ...rest.map((l) => `${' '.repeat(20)}${l}`)];
  }).join('\n');
}

/** Words into lines of at most `width` characters (a longer word stays whole). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  return [...lines, line];
}
