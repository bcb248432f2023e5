import type { AssignmentDocument } from '../../functions/core/assignment-file.js';
import { DEFAULT_ASSIGNMENT_NAME } from '../../functions/core/fleet.js';
import type { AssignmentView } from '../../functions/service/fleet-admin.js';
import { at } from '../command.js';
import type { CommandContext, CommandSpec } from '../command.js';
import { table } from '../table.js';
import { checkName, checkPackage } from '../validate.js';

const ASSIGNMENTS = '/api/v1/assignments';

export const assignmentCommands: CommandSpec[] = [
  {
    words: ['assignments'],
    synopsis: '',
    summary: 'list assignments',
    args: [0, 0],
    async run(ctx) {
      const { assignments } = await ctx.api.request<{ assignments: AssignmentView[] }>('GET', ASSIGNMENTS);
      ctx.print({ assignments }, () =>
        table(
          ['NAME', 'CONFIG', 'PACKAGES', 'SETTINGS', 'TARGET', 'PRIORITY', 'ERROR'],
          assignments.map((a) => [
            a.name,
            a.config ?? '-',
            a.packages ? packageList(a.packages, ',') : '-',
            a.settings ?? '-',
            a.instanceUid ?? a.selector ?? (a.name === DEFAULT_ASSIGNMENT_NAME ? '(every agent)' : '-'),
            a.priority === null ? '-' : String(a.priority),
            a.error ?? '-',
          ]),
        ),
      );
    },
  },
  {
    words: ['assign'],
    synopsis:
      '<assignment> [--config <name>] [--package <name>=<version>]... [--settings <name>] (--selector k=v,... [--priority n] | --agent <uid> | neither, for "default") [--rollout <step,...> [--bake <seconds>] [--max-failed <n|N%>] [--on-failure pause|rollback] | --no-rollout]',
    summary:
      'create or replace an assignment (any of configuration, package set and connection settings); --rollout stages its changes (steps are percentages, or "N" agents; on "default" it is the fleet default), --no-rollout opts out of the fleet default',
    options: {
      rollout: { type: 'string' },
      bake: { type: 'string' },
      'max-failed': { type: 'string' },
      'on-failure': { type: 'string' },
      'no-rollout': { type: 'boolean', default: false },
      config: { type: 'string' },
      package: { type: 'string', multiple: true },
      settings: { type: 'string' },
      selector: { type: 'string' },
      priority: { type: 'string' },
      agent: { type: 'string' },
    },
    args: [1, 1],
    async run(ctx) {
      const name = ctx.arg(0, '<assignment>');
      const document = assignmentDocument(ctx, name);
      await ctx.api.request('PUT', at(ASSIGNMENTS, name), document);
      await ctx.waitFor(`assignment ${name}`, async () => {
        const a = await ctx.api.request<AssignmentView>('GET', at(ASSIGNMENTS, name)).catch(() => undefined);
        return (
          a !== undefined &&
          a.error === null &&
          (a.config ?? undefined) === document.config &&
          JSON.stringify(a.packages ?? undefined) === JSON.stringify(document.packages) &&
          (a.settings ?? undefined) === document.settings &&
          (a.selector ?? undefined) === normalizeSelector(document.selector as string | undefined) &&
          (a.instanceUid ?? undefined) === document.instanceUid?.toLowerCase() &&
          (document.rollout === undefined ? a.rollout === null : document.rollout === false ? a.rollout === false : a.rollout !== null)
        );
      });
      const target = document.instanceUid ?? document.selector ?? 'every agent (fallback)';
      const what = [
        document.config && `configuration ${document.config}`,
        document.packages && `packages ${packageList(document.packages, ', ')}`,
        document.settings && `settings ${document.settings}`,
      ]
        .filter(Boolean)
        .join(' and ');
      ctx.print({ name, ...document, status: 'recorded' }, () => `assignment ${name}: ${what} for ${target}`);
    },
  },
  {
    words: ['unassign'],
    synopsis: '<assignment>',
    summary: 'remove an assignment',
    args: [1, 1],
    async run(ctx) {
      const name = ctx.nameArg('assignment');
      await ctx.remove(at(ASSIGNMENTS, name), `assignment ${name}`);
    },
  },
];

/** The assignment file the options describe, its names checked before anything is sent. */
function assignmentDocument(ctx: CommandContext, name: string): AssignmentDocument {
  const [config, settings, selector, agent] = ['config', 'settings', 'selector', 'agent'].map((o) => ctx.option(o));
  const packageSpecs = ctx.options('package');
  checkName('assignment', name);
  checkName('configuration', config);
  checkName('settings', settings);
  if (selector !== undefined && agent !== undefined) throw ctx.usageError('give at most one of --selector and --agent');
  const rollout = rolloutOption(ctx);
  if (config === undefined && packageSpecs === undefined && settings === undefined && !(name === DEFAULT_ASSIGNMENT_NAME && rollout !== undefined)) {
    throw ctx.usageError('give at least one of --config, --package and --settings');
  }
  const packages =
    packageSpecs === undefined
      ? undefined
      : Object.fromEntries(
          packageSpecs.map((spec) => {
            const eq = spec.indexOf('=');
            if (eq <= 0) throw ctx.usageError(`--package takes <name>=<version>, got ${spec}`);
            checkPackage(spec.slice(0, eq));
            return [spec.slice(0, eq), spec.slice(eq + 1)];
          }),
        );
  const priority = ctx.integerOption('priority');
  return {
    ...(config !== undefined ? { config } : {}),
    ...(packages !== undefined ? { packages } : {}),
    ...(settings !== undefined ? { settings } : {}),
    ...(selector !== undefined ? { selector } : {}),
    ...(agent !== undefined ? { instanceUid: agent } : {}),
    ...(priority !== undefined ? { priority } : {}),
    ...(rollout !== undefined ? { rollout } : {}),
  };
}

/** The rollout policy the options describe (checked by the server with the assignment file's rules). */
function rolloutOption(ctx: CommandContext): AssignmentDocument['rollout'] {
  const steps = ctx.option('rollout');
  const [bake, maxFailed, onFailure] = ['bake', 'max-failed', 'on-failure'].map((o) => ctx.option(o));
  if (ctx.flag('no-rollout')) {
    if (steps !== undefined || bake !== undefined || maxFailed !== undefined || onFailure !== undefined) throw ctx.usageError('--no-rollout takes no other rollout option');
    return false;
  }
  if (steps === undefined) {
    if (bake !== undefined || maxFailed !== undefined || onFailure !== undefined) throw ctx.usageError('--bake, --max-failed and --on-failure need --rollout <steps>');
    return undefined;
  }
  // A bare number of failures is a count of agents; "5%" a share.
  const share = (text: string) => (/^\d+$/.test(text) ? Number(text) : text);
  return {
    steps: steps.split(',').map((s) => {
      const t = s.trim();
      // "10" is 10 %, "10%" too; "5 agents" or "5a" is a count of agents.
      const count = /^(\d+)\s*(a|agents?)$/.exec(t);
      return count ? count[1]! : /^\d+(\.\d+)?$/.test(t) ? Number(t) : t;
    }),
    ...(bake !== undefined ? { bakeSeconds: ctx.integerOption('bake')! } : {}),
    ...(maxFailed !== undefined ? { maxFailed: share(maxFailed) } : {}),
    ...(onFailure !== undefined ? { onFailure: onFailure as 'pause' | 'rollback' } : {}),
  };
}

function packageList(packages: Record<string, string>, separator: string): string {
  return Object.entries(packages)
    .map(([n, v]) => `${n}=${v}`)
    .join(separator);
}

/** A selector as the API shows it: terms trimmed, `key=value` joined by ','. */
function normalizeSelector(selector: string | undefined): string | undefined {
  return selector
    ?.split(',')
    .map((t) => t.trim())
    .filter(Boolean)
    .map((t) => {
      const eq = t.indexOf('=');
      return `${t.slice(0, eq).trim()}=${t.slice(eq + 1).trim()}`;
    })
    .join(',');
}
