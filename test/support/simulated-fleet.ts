import { create } from '@bufbuild/protobuf';
import { RemoteConfigStatuses, RemoteConfigStatusSchema } from '../../functions/gen/opamp/v1/opamp_pb.js';
import { COLLECTOR_CAPS, description, fullReport, health } from './messages.js';
import { ScriptedAgent } from './scripted-agent.js';

/**
 * Settings under which the server does not steer poll intervals: simulated
 * collectors poll when the test says, and liveness is judged against the
 * expected interval alone.
 */
export const UNSTEERED = { OPAMP_HEARTBEAT_IDLE_SECONDS: '0', OPAMP_HEARTBEAT_PENDING_SECONDS: '0' } as const;

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
    /** Called before every message (time passes between polls on a test clock). */
    beforeSend?: () => void,
  ) {
    // A full report carries what the collector runs and its health, as the Go client's does.
    this.agent = new ScriptedAgent(endpoint, {
      ...(beforeSend ? { beforeSend } : {}),
      report: (uid, seq) => fullReport(uid, seq, { capabilities: COLLECTOR_CAPS, agentDescription: description(attributes), health: health(this.healthy), ...this.status() }),
    });
  }

  get uid(): string {
    return this.agent.uidText;
  }

  /** Full-state reports the server asked for, in all. */
  fullStateRequests = 0;

  /**
   * One poll: reports, takes what the reply offers, answers a request for
   * its full state at once, and reports on an offer at once (as the
   * Collector does after applying). Returns the last offered text, if any.
   */
  async poll(): Promise<string | undefined> {
    let result = await this.agent.send({ capabilities: COLLECTOR_CAPS, health: health(this.healthy), ...this.status() });
    let offeredText: string | undefined;
    for (let exchanges = 0; exchanges < 5; exchanges++) {
      if (result.status !== 200) throw new Error(`poll answered ${result.status}`);
      const text = this.take(result.reply?.remoteConfig);
      offeredText = text ?? offeredText;
      const full = await this.agent.honourFlags(result);
      if (full) {
        this.fullStateRequests++;
        result = full;
      } else if (text !== undefined) {
        result = await this.agent.send({ capabilities: COLLECTOR_CAPS, health: health(this.healthy), ...this.status() });
      } else {
        break;
      }
    }
    return offeredText;
  }

  /** Applies (or refuses) an offered configuration; returns its text. */
  private take(offered: { configHash: Uint8Array; config?: { configMap: Record<string, { body: Uint8Array }> } | undefined } | undefined): string | undefined {
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
    return text;
  }

  private status() {
    const last = this.lastReport;
    return last ? { remoteConfigStatus: create(RemoteConfigStatusSchema, { lastRemoteConfigHash: last.hash, status: last.status, errorMessage: last.message }) } : {};
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
