import { DemoAgent } from './demo-agent.js';
import { demoProfiles } from './profiles.js';

export interface DemoFleetOptions {
  /** The agent endpoint, e.g. http://127.0.0.1:4320/v1/opamp. */
  endpoint: string;
  count: number;
  token?: string | undefined;
  /** Seconds between polls until the server asks for another interval. */
  intervalSeconds: number;
  /** Poll at least this often, whatever interval the server asks for (to see changes sooner). */
  maxIntervalSeconds?: number | undefined;
  /** Told about every agent's events (and failures to reach the server). */
  log?: (agent: DemoAgent, line: string) => void;
  random?: () => number;
  /** Distinguishes fleets (their uids derive from it). */
  prefix?: string;
}

/**
 * Runs the demo agents, each polling on its own timer (spread out so they do
 * not all arrive at once), until stop() is called; stop waits for polls in
 * flight so the process exits cleanly.
 */
export class DemoFleet {
  readonly agents: DemoAgent[];
  private timers = new Map<DemoAgent, NodeJS.Timeout>();
  private inFlight = new Set<Promise<void>>();
  private stopped = false;

  constructor(private readonly options: DemoFleetOptions) {
    this.agents = demoProfiles(options.count, options.prefix).map(
      (profile) =>
        new DemoAgent(profile, options.endpoint, {
          token: options.token,
          intervalSeconds: options.intervalSeconds,
          maxIntervalSeconds: options.maxIntervalSeconds,
          random: options.random,
        }),
    );
  }

  /** Every agent polls once now (so the fleet is there at once), then on its own schedule. */
  async start(): Promise<void> {
    await Promise.all(this.agents.map((agent) => this.pollOnce(agent)));
  }

  private pollOnce(agent: DemoAgent): Promise<void> {
    const run = agent.poll().then(
      (outcome) => {
        for (const line of outcome.events) this.options.log?.(agent, line);
        this.schedule(agent, outcome.nextPollSeconds);
      },
      (error: Error & { cause?: Error }) => {
        this.options.log?.(agent, `cannot reach ${this.options.endpoint}: ${error.cause?.message ?? error.message}`);
        this.schedule(agent, this.options.intervalSeconds * 2);
      },
    );
    const tracked = run.finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
    return tracked;
  }

  private schedule(agent: DemoAgent, seconds: number): void {
    if (this.stopped) return;
    // Up to a tenth of jitter keeps the agents from polling in lockstep.
    const jitter = 1 + ((this.options.random ?? Math.random)() - 0.5) * 0.2;
    this.timers.set(
      agent,
      setTimeout(() => void this.pollOnce(agent), Math.max(50, seconds * 1000 * jitter)),
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await Promise.all([...this.inFlight]);
  }
}
