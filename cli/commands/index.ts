import type { CommandSpec } from '../command.js';
import { agentActionCommands } from './agent-actions.js';
import { agentCommands } from './agents.js';
import { assignmentCommands } from './assignments.js';
import { auditCommands } from './audit.js';
import { bucketCommands } from './bucket.js';
import { certificateCommands } from './certificates.js';
import { configCommands } from './configs.js';
import { configHistoryCommands } from './config-history.js';
import { consoleCommands } from './console.js';
import { packageCommands } from './packages.js';
import { rolloutCommands } from './rollouts.js';
import { settingsCommands } from './settings.js';
import { tokenCommands } from './tokens.js';

/** Every opampctl command, in the order --help lists them. */
export const COMMANDS: readonly CommandSpec[] = [
  ...agentCommands,
  ...configCommands,
  ...configHistoryCommands,
  ...assignmentCommands,
  ...rolloutCommands,
  ...packageCommands,
  ...settingsCommands,
  ...certificateCommands,
  ...agentActionCommands,
  ...tokenCommands,
  ...bucketCommands,
  ...auditCommands,
  ...consoleCommands,
];

/** The command the leading words name: the longest match, so that `settings show` wins over `settings`. */
export function findCommand(words: readonly string[]): CommandSpec | undefined {
  return [...COMMANDS].sort((a, b) => b.words.length - a.words.length).find((c) => c.words.every((w, i) => words[i] === w));
}

/** The sub-commands of a group word (`config` -> show, upload, delete), for a message when none is given. */
export function subcommands(word: string): string[] {
  return COMMANDS.filter((c) => c.words.length > 1 && c.words[0] === word).map((c) => c.words[1]!);
}
