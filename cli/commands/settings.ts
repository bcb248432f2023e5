import type { ConnectionSettingsSpec } from '../../functions/core/connection-settings.js';
import { DEFAULT_SETTINGS_NAME } from '../../functions/core/fleet.js';
import type { SettingsView } from '../../functions/service/fleet-admin.js';
import { CliError } from '../api-client.js';
import { at, readText } from '../command.js';
import type { CommandSpec } from '../command.js';
import { table } from '../table.js';
import { byKey } from '../../functions/core/compare.js';

const SETTINGS = '/api/v1/settings';

export const settingsCommands: CommandSpec[] = [
  {
    words: ['settings'],
    synopsis: '',
    summary: 'list connection settings documents, where they apply and what they lack',
    args: [0, 0],
    async run(ctx) {
      const { settings } = await ctx.api.request<{ settings: SettingsView[] }>('GET', SETTINGS);
      ctx.print({ settings }, () =>
        table(
          ['NAME', 'IN FORCE', 'APPLIES TO', 'CERTIFICATES', 'PROBLEMS'],
          settings.map((d) => [
            d.name,
            d.inForce ? 'yes' : 'no',
            settingsReach(d),
            d.certificates.join(',') || '-',
            [...(d.error !== null ? [d.error] : []), ...d.problems, ...d.warnings.map((w) => `warning: ${w}`)].join('; ') || '-',
          ]),
        ),
      );
    },
  },
  {
    words: ['settings', 'show'],
    synopsis: '<name>',
    summary: 'one settings document, where it applies and what it lacks',
    args: [1, 1],
    async run(ctx) {
      const view = await ctx.api.request<SettingsView>('GET', at(SETTINGS, ctx.nameArg('settings')));
      ctx.print(view, () =>
        [
          `${view.name}  ${view.inForce ? 'in force' : 'not in force'}, applies to ${settingsReach(view)}`,
          ...(view.error !== null ? [`error           ${view.error} (at ${view.errorAt})`] : []),
          ...view.problems.map((p) => `problem         ${p}`),
          ...view.warnings.map((w) => `warning         ${w}`),
          ...(view.settings !== null ? [JSON.stringify(view.settings, null, 2)] : []),
        ].join('\n'),
      );
    },
  },
  {
    words: ['settings', 'upload'],
    synopsis: '<name> <file.json>',
    summary: `upload a settings document (settings "${DEFAULT_SETTINGS_NAME}" applies to every agent no assignment gives settings)`,
    args: [2, 2],
    async run(ctx) {
      const name = ctx.nameArg('settings');
      const file = ctx.arg(1, '<file.json>');
      const text = await readText(file);
      let document: unknown;
      try {
        document = JSON.parse(text);
      } catch (error) {
        throw new CliError(`${file} is not valid JSON: ${(error as Error).message}`);
      }
      const accepted = await ctx.api.request<{ name: string; settings: ConnectionSettingsSpec; warnings: string[] }>('PUT', at(SETTINGS, name), document);
      await ctx.waitFor(`settings ${name}`, async () => {
        const view = await ctx.api.request<SettingsView>('GET', at(SETTINGS, name)).catch(() => undefined);
        return view !== undefined && view.error === null && sortedJson(view.settings) === sortedJson(accepted.settings);
      });
      const warnings = accepted.warnings ?? [];
      ctx.print({ name, settings: accepted.settings, warnings, status: ctx.writeStatus }, () => [`settings ${name} uploaded`, ...warnings.map((w) => `warning: ${w}`)].join('\n'));
    },
  },
  {
    words: ['settings', 'delete'],
    synopsis: '<name>',
    summary: 'remove a settings document',
    args: [1, 1],
    async run(ctx) {
      const name = ctx.nameArg('settings');
      await ctx.remove(at(SETTINGS, name), `settings ${name}`);
    },
  },
];

/** Who a settings document reaches: the assignments giving it, and every other agent for `default`. */
function settingsReach(view: SettingsView): string {
  const reach = [...view.assignments.map((a) => `assignment ${a}`), ...(view.isDefault ? ['every agent no assignment gives settings'] : [])];
  return reach.join(', ') || 'no agent (no assignment names it)';
}

/** JSON with object keys sorted, to compare documents whatever order their keys come in. */
function sortedJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(byKey)) : v));
}
