import type { CommandSpec } from '../command.js';
import { consoleCommand, DEFAULT_CONSOLE_PORT } from '../console.js';

export const consoleCommands: CommandSpec[] = [
  {
    words: ['console'],
    synopsis: '[--port <n>]',
    summary: `the fleet console in your browser, on this machine (default port ${DEFAULT_CONSOLE_PORT}; 0 picks a free one), calling the fleet API (--api or --stack) with your AWS credentials`,
    options: { port: { type: 'string' } },
    args: [0, 0],
    run(ctx) {
      const argv = (['port', 'api', 'stack', 'region'] as const).flatMap((name) => {
        const value = ctx.option(name);
        return value === undefined ? [] : [`--${name}`, value];
      });
      return consoleCommand(argv, ctx.out);
    },
  },
];
