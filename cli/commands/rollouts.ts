import type { RolloutView } from '../../functions/service/rollouts/rollout-view.js';
import type { rolloutSummary } from '../../functions/service/rollouts/rollout-view.js';
import type { CommandContext, CommandSpec } from '../command.js';
import { table } from '../table.js';

const ROLLOUTS = '/api/v1/rollouts';
const ASPECT_OPTIONS = { packages: { type: 'boolean', default: false } } as const;

/** /api/v1/rollouts/<assignment>/<config|packages>: the configuration's rollout unless --packages. */
function rolloutPath(ctx: CommandContext): string {
  return `${ROLLOUTS}/${encodeURIComponent(ctx.nameArg('assignment'))}/${ctx.flag('packages') ? 'packages' : 'config'}`;
}

function action(name: 'pause' | 'resume' | 'abort' | 'promote', summary: string): CommandSpec {
  return {
    words: ['rollouts', name],
    synopsis: '<assignment> [--packages]',
    summary,
    options: ASPECT_OPTIONS,
    args: [1, 1],
    async run(ctx) {
      const rollout = await ctx.api.request<RolloutView>('POST', `${rolloutPath(ctx)}/${name}`);
      ctx.print(rollout, () => `rollout ${rollout.id} is ${rollout.state}`);
    },
  };
}

export const rolloutCommands: CommandSpec[] = [
  {
    words: ['rollouts'],
    synopsis: '',
    summary: 'list staged rollouts: state, step and counts',
    args: [0, 0],
    async run(ctx) {
      const { rollouts } = await ctx.api.request<{ rollouts: Array<ReturnType<typeof rolloutSummary>> }>('GET', ROLLOUTS);
      ctx.print({ rollouts }, () =>
        table(
          ['ASSIGNMENT', 'ASPECT', 'STATE', 'STEP', 'GOOD/TARGETED', 'FAILED', 'TO'],
          rollouts.map((r) => [
            r.assignment,
            r.aspect,
            r.state,
            `${r.step}/${r.steps}`,
            r.counts ? `${r.counts.good + r.counts.applied}/${r.counts.targeted}` : '-',
            String(r.counts?.failed ?? 0),
            r.to,
          ]),
        ),
      );
    },
  },
  {
    words: ['rollouts', 'show'],
    synopsis: '<assignment> [--packages]',
    summary: "where an assignment's staged rollout stands: state, step, counts, why it paused, timeline",
    options: ASPECT_OPTIONS,
    args: [1, 1],
    async run(ctx) {
      const rollout = await ctx.api.request<RolloutView>('GET', rolloutPath(ctx));
      ctx.print(rollout, () => rolloutText(rollout));
    },
  },
  action('pause', 'pause a running rollout: no step starts until it is resumed'),
  action('resume', 'resume a paused rollout; failures so far are acknowledged, only new ones count against maxFailed'),
  action('abort', 'roll back now: every agent gets what it had before the rollout'),
  action('promote', 'skip to 100 %: every agent gets the new version, gates no longer apply'),
];

function rolloutText(r: RolloutView): string {
  const c = r.counts;
  const lines = [
    `rollout ${r.id}: ${r.state}, step ${r.step} of ${r.steps}`,
    `from ${r.from?.description ?? 'nothing'} to ${r.to.description}`,
    `policy steps ${r.policy.steps.join(', ')}  bake ${r.policy.bakeSeconds} s  maxFailed ${r.policy.maxFailed}  onFailure ${r.policy.onFailure}`,
  ];
  if (c) {
    lines.push(
      `targeted ${c.targeted}  admitted ${c.admitted}  pending ${c.pending}  offered ${c.offered}  applying ${c.applying}  applied ${c.applied}  good ${c.good}  failed ${c.failed}  silent ${c.silent}  not-accepted ${c.notAccepted}`,
    );
  }
  if (r.bakingSince) lines.push(`baking since ${r.bakingSince}`);
  if (r.reason) lines.push(`reason: ${r.reason}`);
  if (r.failed.length > 0)
    lines.push(
      '',
      table(
        ['FAILED AGENT', 'AT', 'REASON'],
        r.failed.map((f) => [f.instanceUid, f.at, f.reason]),
      ),
    );
  lines.push(
    '',
    table(
      ['AT', 'EVENT', 'STEP', 'BY', 'DETAIL'],
      r.timeline.map((e) => [e.at, e.event, e.step === null ? '-' : String(e.step), e.by, e.detail ?? '-']),
    ),
  );
  return lines.join('\n');
}
