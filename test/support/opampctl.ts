import { main } from '../../cli/opampctl.js';

/** Runs opampctl in this process against the fleet API at `apiUrl`; resolves with what it printed. */
export async function runOpampctl(apiUrl: string, args: readonly string[]): Promise<string> {
  const lines: string[] = [];
  await main([...args, '--api', apiUrl], (line) => lines.push(line));
  return lines.join('\n');
}
