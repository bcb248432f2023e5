// The parts of the documentation that are written from the code: the
// settings tables of docs/reference/configuration.md (from the declarations
// in functions/config.ts) and the usage of docs/reference/opampctl.md (from
// `opampctl --help`). Each page keeps its prose; only the blocks between
// `<!-- BEGIN GENERATED: <name> -->` and `<!-- END GENERATED: <name> -->` are
// rewritten.
import { SETTINGS_REFERENCE } from '../../functions/config.js';
import type { Setting, SettingTable } from '../../functions/settings.js';
import { main as opampctl } from '../../cli/opampctl.js';

/** Variables read outside functions/config.ts, documented beside the declared settings. */
export const OTHER_VARIABLES: readonly { name: string; default: string; description: string }[] = [
  { name: 'OPAMP_API_URL', default: 'unset', description: 'the fleet API URL `opampctl` uses when `--api` is not given' },
  { name: 'POWERTOOLS_LOG_LEVEL', default: '`INFO`', description: 'log level; a steady heartbeat logs nothing at `INFO`' },
];

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function defaultText(declared: Setting<unknown>): string {
  if (declared.defaultText !== undefined) return declared.defaultText;
  return declared.default === undefined ? 'unset' : declared.parser.show(declared.default as never);
}

function settingsTable(settings: SettingTable): string {
  const rows = Object.values(settings).map((declared) => `| \`${declared.name}\` | ${cell(defaultText(declared))} | ${cell(declared.parser.accepts)} | ${cell(declared.description)} |`);
  return ['| Variable | Default | Values | Meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/** The settings tables, one per topic, then the variables other programs read. */
export function settingsReference(): string {
  const sections = SETTINGS_REFERENCE.map(({ title, settings }) => `## ${title}\n\n${settingsTable(settings)}`);
  const others = ['| Variable | Default | Meaning |', '| --- | --- | --- |', ...OTHER_VARIABLES.map((v) => `| \`${v.name}\` | ${cell(v.default)} | ${cell(v.description)} |`)].join('\n');
  return [...sections, `## Read by opampctl and the logger\n\n${others}`].join('\n\n');
}

/** What `opampctl --help` prints, as a code block. */
export async function opampctlUsage(): Promise<string> {
  const lines: string[] = [];
  await opampctl(['--help'], (line) => lines.push(line));
  return ['```text', lines.join('\n').trimEnd(), '```'].join('\n');
}

/** The generated blocks, by page and block name. */
export async function generatedBlocks(): Promise<Record<string, Record<string, string>>> {
  return {
    'docs/reference/configuration.md': { settings: settingsReference() },
    'docs/reference/opampctl.md': { usage: await opampctlUsage() },
  };
}

/** The page with each named block replaced; a block whose markers are missing is an error. */
export function fillBlocks(page: string, blocks: Record<string, string>, pageName = 'page'): string {
  let out = page;
  for (const [name, content] of Object.entries(blocks)) {
    const begin = `<!-- BEGIN GENERATED: ${name} -->`;
    const end = `<!-- END GENERATED: ${name} -->`;
    const from = out.indexOf(begin);
    const to = out.indexOf(end, from);
    if (from === -1 || to === -1) throw new Error(`${pageName} lacks the markers ${begin} ... ${end}`);
    out = `${out.slice(0, from + begin.length)}\n<!-- Written by \`npm run docs\`: edit the source, not this block. -->\n\n${content}\n\n${out.slice(to)}`;
  }
  return out;
}
