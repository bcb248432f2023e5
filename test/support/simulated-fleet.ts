import { create } from '@bufbuild/protobuf';
import { RemoteConfigStatuses, RemoteConfigStatusSchema } from '../../functions/gen/opamp/v1/opamp_pb.js';
import { COLLECTOR_CAPS, description, fullReport, health } from './messages.js';
import { ScriptedAgent } from './scripted-agent.js';

/** How a simulated Collector takes a configuration: by its text. */
export type ConfigVerdict = (text: string) => { status: 'applied' | 'failed'; message?: string };

/**
 * Collectors that poll a backend round by round: each reports its health and
 * what became of the last configuration offered, and takes (or refuses) the
 * configurations it is offered as `verdict` says, reporting at once.
 */
export class SimulatedCollector {
  readonly agent: ScriptedAgent;
  /** The hash and text of the configuration it runs, and what it reported for the last offer. */
  running: { hash: Uint8Array; text: string } | undefined;
  lastReport: { hash: Uint8Array; status: RemoteConfigStatuses; message: string } | undefined;
  healthy = true;
  /** Texts offered to it, in order. */
  readonly offers: string[] = [];

  constructor(
    endpoint: string,
    attributes: Record<string, string>,
    public verdict: ConfigVerdict = () => ({ status: 'applied' }),
  ) {
    this.agent = new ScriptedAgent(endpoint, {
      report: (uid, seq) => fullReport(uid, seq, { capabilities: COLLECTOR_CAPS, agentDescription: description(attributes), health: health(true) }),
    });
  }

  get uid(): string {
    return this.agent.uidText;
  }

  /** One poll: reports, and takes what the reply offers. Returns the offered text, if any. */
  async poll(): Promise<string | undefined> {
    const result = await this.agent.send({
      capabilities: COLLECTOR_CAPS,
      health: health(this.healthy),
      ...(this.lastReport
        ? { remoteConfigStatus: create(RemoteConfigStatusSchema, { lastRemoteConfigHash: this.lastReport.hash, status: this.lastReport.status, errorMessage: this.lastReport.message }) }
        : {}),
    });
    if (result.status !== 200) throw new Error(`poll answered ${result.status}`);
    if (await this.agent.honourFlags(result)) return undefined;
    const offered = result.reply?.remoteConfig;
    if (!offered) return undefined;
    const text = Object.values(offered.config?.configMap ?? {})
      .map((f) => new TextDecoder().decode(f.body))
      .join('\n');
    this.offers.push(text);
    const verdict = this.verdict(text);
    if (verdict.status === 'applied') {
      this.running = { hash: offered.configHash, text };
      this.lastReport = { hash: offered.configHash, status: RemoteConfigStatuses.RemoteConfigStatuses_APPLIED, message: '' };
    } else {
      this.lastReport = { hash: offered.configHash, status: RemoteConfigStatuses.RemoteConfigStatuses_FAILED, message: verdict.message ?? 'refused' };
    }
    // It reports at once, as the Collector does after applying.
    await this.agent.send({
      capabilities: COLLECTOR_CAPS,
      health: health(this.healthy),
      remoteConfigStatus: create(RemoteConfigStatusSchema, { lastRemoteConfigHash: this.lastReport.hash, status: this.lastReport.status, errorMessage: this.lastReport.message }),
    });
    return text;
  }
}

/** Every collector polls once; returns the collectors that were offered something, with the text. */
export async function pollRound(fleet: readonly SimulatedCollector[]): Promise<Map<SimulatedCollector, string>> {
  const offered = new Map<SimulatedCollector, string>();
  for (const collector of fleet) {
    const text = await collector.poll();
    if (text !== undefined) offered.set(collector, text);
  }
  return offered;
}
