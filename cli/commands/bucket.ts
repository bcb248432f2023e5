import type { RejectedKeyView } from '../../functions/http/routes/bucket-api.js';
import type { CommandSpec } from '../command.js';
import { table } from '../table.js';

export const bucketCommands: CommandSpec[] = [
  {
    words: ['bucket', 'rejected'],
    synopsis: '',
    summary: 'bucket objects the server would not accept (bad names or layout), newest first, with the reason',
    args: [0, 0],
    async run(ctx) {
      const { rejected } = await ctx.api.request<{ rejected: RejectedKeyView[] }>('GET', '/api/v1/bucket/rejected');
      ctx.print({ rejected }, () =>
        rejected.length === 0
          ? 'no rejected bucket objects'
          : table(
              ['KEY', 'REASON', 'AT'],
              rejected.map((r) => [JSON.stringify(r.key), r.reason, r.at]),
            ),
      );
    },
  },
];
