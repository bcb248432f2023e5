// Simulated agents: Collectors under the OpAMP supervisor, speaking the way the
// opamp-go HTTP client does (status compression: a heartbeat carries only the
// uid, sequence number and capabilities; a changed section is sent alone).
import { create } from '@bufbuild/protobuf';
import {
  AgentCapabilities,
  ConnectionSettingsStatuses,
  ConnectionSettingsStatusSchema,
  RemoteConfigStatuses,
  RemoteConfigStatusSchema,
  ServerToAgentFlags,
} from '../../functions/gen/opamp/v1/opamp_pb.js';
import type { AgentRemoteConfig, AgentToServer, ConnectionSettingsOffers, ConnectionSettingsStatus, ServerToAgent } from '../../functions/gen/opamp/v1/opamp_pb.js';
import { agentToServer, COLLECTOR_CAPS, description, effectiveConfig, health, newUidBytes } from '../../test/support/messages.js';
import { uidText } from './harness.js';

/** A typical Collector configuration (about 1.3 KB), reported as the effective config. */
export function collectorYaml(revision: number): string {
  return `# revision ${revision}
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 0.0.0.0:4317
      http:
        endpoint: 0.0.0.0:4318
  hostmetrics:
    collection_interval: 30s
    scrapers:
      cpu: {}
      memory: {}
      disk: {}
      filesystem: {}
      network: {}
      load: {}
processors:
  memory_limiter:
    check_interval: 1s
    limit_percentage: 80
    spike_limit_percentage: 20
  batch:
    send_batch_size: 8192
    timeout: 5s
  resourcedetection:
    detectors: [env, system, ec2]
    timeout: 2s
  resource:
    attributes:
      - key: deployment.environment
        value: production
        action: upsert
exporters:
  otlphttp:
    endpoint: https://otlp.example.com:4318
    compression: gzip
    retry_on_failure:
      enabled: true
      max_elapsed_time: 300s
    sending_queue:
      enabled: true
      queue_size: 5000
extensions:
  health_check:
    endpoint: 0.0.0.0:13133
  opamp:
    server:
      http:
        endpoint: https://opamp.example.com/v1/opamp
        polling_interval: 30s
service:
  extensions: [health_check, opamp]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [memory_limiter, resourcedetection, resource, batch]
      exporters: [otlphttp]
    metrics:
      receivers: [otlp, hostmetrics]
      processors: [memory_limiter, resourcedetection, resource, batch]
      exporters: [otlphttp]
    logs:
      receivers: [otlp]
      processors: [memory_limiter, resourcedetection, resource, batch]
      exporters: [otlphttp]
`;
}

const PIPELINES = ['pipeline:traces', 'pipeline:metrics', 'pipeline:logs'];

/** The opamp-go HTTP client's polling interval until the server offers another. */
export const CLIENT_DEFAULT_POLL_SECONDS = 30;

/** A Collector under a supervisor that also takes OpAMP connection settings (the poll interval) and reports on them. */
export const STEERABLE_COLLECTOR_CAPS =
  COLLECTOR_CAPS | BigInt(AgentCapabilities.AgentCapabilities_AcceptsOpAMPConnectionSettings) | BigInt(AgentCapabilities.AgentCapabilities_ReportsConnectionSettingsStatus);

export class SimAgent {
  readonly uid = newUidBytes();
  readonly uidText = uidText(this.uid);
  private seq = 0n;
  healthy = true;
  healthRevision = 0;
  configRevision = 0;
  /** Effective configuration files (what the agent runs). */
  effective: Record<string, string>;
  /** The hash of the remote config it last applied, and the status it reported. */
  lastRemoteHash: Uint8Array = new Uint8Array();
  remoteStatus = RemoteConfigStatuses.RemoteConfigStatuses_UNSET;
  offersReceived = 0;
  /** The interval the agent polls at: the client default until the server offers one (heartbeat_interval_seconds). */
  pollIntervalSeconds = CLIENT_DEFAULT_POLL_SECONDS;
  settingsOffersReceived = 0;
  /** Extra non-identifying attributes reported in full reports (what assignment selectors match on). */
  attributes: Record<string, string> = {};
  /** The status of the last settings offer taken, until a message has carried it (status compression). */
  private unreportedSettings: ConnectionSettingsStatus | undefined;

  constructor(
    readonly index: number,
    readonly capabilities: bigint = COLLECTOR_CAPS,
  ) {
    this.effective = { 'collector.yaml': collectorYaml(0) };
  }

  private next(): bigint {
    return this.seq++;
  }

  fullReport(): AgentToServer {
    return agentToServer({
      instanceUid: this.uid,
      sequenceNum: this.next(),
      capabilities: this.capabilities,
      agentDescription: description(
        { 'service.name': 'otelcol-contrib', 'service.version': '0.140.0', 'service.instance.id': this.uidText },
        {
          'host.name': `ip-10-0-${(this.index >> 8) & 255}-${this.index & 255}.ec2.internal`,
          'host.arch': 'arm64',
          'os.type': 'linux',
          'os.description': 'Amazon Linux 2023.6.20250107',
          'deployment.environment': 'production',
          'cloud.region': 'us-east-1',
          ...this.attributes,
        },
      ),
      health: this.healthMessage(),
      effectiveConfig: effectiveConfig(this.effective),
      remoteConfigStatus: create(RemoteConfigStatusSchema, { lastRemoteConfigHash: this.lastRemoteHash, status: this.remoteStatus }),
      ...this.settingsStatusField(),
    });
  }

  heartbeat(): AgentToServer {
    return agentToServer({ instanceUid: this.uid, sequenceNum: this.next(), capabilities: this.capabilities, ...this.settingsStatusField() });
  }

  /** The health tree changed (a pipeline went down, or came back). */
  healthChange(): AgentToServer {
    this.healthy = !this.healthy;
    this.healthRevision++;
    return agentToServer({ instanceUid: this.uid, sequenceNum: this.next(), capabilities: this.capabilities, health: this.healthMessage() });
  }

  /** The effective configuration changed locally (e.g. a new revision on disk). */
  effectiveConfigChange(): AgentToServer {
    this.configRevision++;
    this.effective = { ...this.effective, 'collector.yaml': collectorYaml(this.configRevision) };
    return agentToServer({ instanceUid: this.uid, sequenceNum: this.next(), capabilities: this.capabilities, effectiveConfig: effectiveConfig(this.effective) });
  }

  /** What the supervisor reports while applying an offered configuration. */
  applying(offer: AgentRemoteConfig): AgentToServer {
    this.remoteStatus = RemoteConfigStatuses.RemoteConfigStatuses_APPLYING;
    this.lastRemoteHash = offer.configHash;
    return agentToServer({
      instanceUid: this.uid,
      sequenceNum: this.next(),
      capabilities: this.capabilities,
      remoteConfigStatus: create(RemoteConfigStatusSchema, { lastRemoteConfigHash: offer.configHash, status: this.remoteStatus }),
      ...this.settingsStatusField(),
    });
  }

  /** Applied: the status and the new effective configuration in one message. */
  applied(offer: AgentRemoteConfig): AgentToServer {
    this.remoteStatus = RemoteConfigStatuses.RemoteConfigStatuses_APPLIED;
    const files: Record<string, string> = {};
    for (const [name, file] of Object.entries(offer.config?.configMap ?? {})) files[name] = new TextDecoder().decode(file.body);
    this.effective = files;
    return agentToServer({
      instanceUid: this.uid,
      sequenceNum: this.next(),
      capabilities: this.capabilities,
      remoteConfigStatus: create(RemoteConfigStatusSchema, { lastRemoteConfigHash: offer.configHash, status: this.remoteStatus }),
      effectiveConfig: effectiveConfig(this.effective),
      ...this.settingsStatusField(),
    });
  }

  /**
   * Takes connection settings as the opamp-go client and a supervisor do: the
   * poll interval applies from the next polling cycle (only with
   * ReportsHeartbeat), and an agent that reports its settings status owes the
   * server an APPLIED for the offer's hash.
   */
  takeSettings(offers: ConnectionSettingsOffers): void {
    this.settingsOffersReceived++;
    const seconds = offers.opamp?.heartbeatIntervalSeconds ?? 0n;
    if (seconds > 0n && this.has(AgentCapabilities.AgentCapabilities_ReportsHeartbeat)) this.pollIntervalSeconds = Number(seconds);
    if (this.has(AgentCapabilities.AgentCapabilities_ReportsConnectionSettingsStatus)) {
      this.unreportedSettings = create(ConnectionSettingsStatusSchema, {
        lastConnectionSettingsHash: offers.hash,
        status: ConnectionSettingsStatuses.ConnectionSettingsStatuses_APPLIED,
      });
    }
  }

  /** Whether a settings status is waiting to be sent (the client sends it at once). */
  get owesSettingsStatus(): boolean {
    return this.unreportedSettings !== undefined;
  }

  /** The settings status alone, as the client sends it right after applying an offer. */
  settingsStatusReport(): AgentToServer {
    return agentToServer({ instanceUid: this.uid, sequenceNum: this.next(), capabilities: this.capabilities, ...this.settingsStatusField() });
  }

  /** The unreported settings status, carried once by the next message. */
  private settingsStatusField(): { connectionSettingsStatus?: ConnectionSettingsStatus } {
    const status = this.unreportedSettings;
    this.unreportedSettings = undefined;
    return status ? { connectionSettingsStatus: status } : {};
  }

  private has(capability: AgentCapabilities): boolean {
    return (this.capabilities & BigInt(capability)) !== 0n;
  }

  private healthMessage() {
    const components: Record<string, boolean> = {};
    for (const p of PIPELINES) components[p] = this.healthy || p !== 'pipeline:metrics';
    return health(this.healthy, components, this.healthy ? '' : `exporter otlphttp: connection refused (revision ${this.healthRevision})`);
  }
}

export function asksFullState(reply: ServerToAgent | undefined): boolean {
  return ((reply?.flags ?? 0n) & BigInt(ServerToAgentFlags.ServerToAgentFlags_ReportFullState)) !== 0n;
}

/** A small seeded PRNG (mulberry32), so that churn picks the same agents on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
