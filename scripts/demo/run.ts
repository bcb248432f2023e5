// `npm run demo`: simulated agents against a backend, so the console shows a fleet.
import { parseArgs } from 'node:util';
import { DemoFleet } from './fleet.js';
import { OLD_VERSION } from './profiles.js';

const USAGE = `Usage: npm run demo -- [--count <n>] [--url <backend>] [--token <agent token>] [--interval <seconds>]
                        [--max-interval <seconds>] [--quiet]

Runs <n> simulated agents (default 20) against the backend (default http://127.0.0.1:4320, the
one \`npm start\` runs): Collectors and SDK agents of several services, environments and versions.
They report effective configuration and health (some of them flap), apply configurations (one old
Collector, version ${OLD_VERSION}, rejects every one), install packages, take connection settings and
restarts, and echo custom messages sent to capability io.opentelemetry.demo.echo. They poll every
--interval seconds (default 10) until the server asks for another interval; --max-interval caps
that, to see changes sooner. Ctrl-C stops them.`;

function fail(message: string): never {
  console.error(`demo: ${message}`);
  process.exit(1);
}

function parse() {
  try {
    return parseArgs({
      options: {
        count: { type: 'string', default: '20' },
        url: { type: 'string', default: process.env.OPAMP_URL ?? 'http://127.0.0.1:4320' },
        token: { type: 'string', default: process.env.OPAMP_TOKEN },
        interval: { type: 'string', default: '10' },
        'max-interval': { type: 'string' },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (error) {
    return fail((error as Error).message);
  }
}

const values = parse();
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const count = Number(values.count);
if (!Number.isInteger(count) || count < 1 || count > 10_000) fail(`--count takes a number of agents from 1 to 10000, not ${values.count}`);
const interval = Number(values.interval);
if (!Number.isFinite(interval) || interval < 0.1) fail(`--interval takes seconds (0.1 or more), not ${values.interval}`);
const maxInterval = values['max-interval'] === undefined ? undefined : Number(values['max-interval']);
if (maxInterval !== undefined && !(maxInterval >= 0.1)) fail(`--max-interval takes seconds (0.1 or more), not ${values['max-interval']}`);
let base: URL;
try {
  base = new URL(values.url);
} catch {
  fail(`--url takes the backend's URL, not ${values.url}`);
}
const endpoint = base.pathname.endsWith('/v1/opamp') ? base.href : new URL('/v1/opamp', base).href;

const fleet = new DemoFleet({
  endpoint,
  count,
  token: values.token,
  intervalSeconds: interval,
  maxIntervalSeconds: maxInterval,
  log: values.quiet ? undefined : (agent, line) => console.log(`${agent.profile.host} ${agent.profile.service}: ${line}`),
});
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  console.log('stopping the demo agents...');
  await fleet.stop();
  console.log(`stopped ${count} demo agents`);
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());

await fleet.start();
const consoleUrl = new URL('/', base).href;
console.log(`${count} demo agents polling ${endpoint} every ${interval} s (or as the server asks${maxInterval ? `, at most ${maxInterval} s` : ''}).
Console: ${consoleUrl}  (with a deployed stack: opampctl console)
Ctrl-C stops them.`);
