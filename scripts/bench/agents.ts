// Simulated agents: Collectors under the OpAMP supervisor, speaking the way the
// opamp-go HTTP client does (status compression: a heartbeat carries only the
// uid, sequence number and capabilities; a changed section is sent alone).
import { create } from '@bufbuild/protobuf';
import {
  RemoteConfigStatuses,
  RemoteConfigStatusSchema,
  ServerToAgentFlags,
} from '../../functions/gen/opamp/v1/opamp_pb.js';
import type { AgentRemoteConfig, AgentToServer, ServerToAgent } from '../../functions/gen/opamp/v1/opamp_pb.js';
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

  constructor(readonly index: number) {
    this.effective = { 'collector.yaml': collectorYaml(0) };
  }

  private next(): bigint {
    return this.seq++;
  }

  fullReport(): AgentToServer {
    return agentToServer({
      instanceUid: this.uid,
      sequenceNum: this.next(),
      capabilities: COLLECTOR_CAPS,
      agentDescription: description(
        { 'service.name': 'otelcol-contrib', 'service.version': '0.140.0', 'service.instance.id': this.uidText },
        {
          'host.name': `ip-10-0-${(this.index >> 8) & 255}-${this.index & 255}.ec2.internal`,
          'host.arch': 'arm64',
          'os.type': 'linux',
          'os.description': 'Amazon Linux 2023.6.20250107',
          'deployment.environment': 'production',
          'cloud.region': 'us-east-1',
        },
      ),
      health: this.healthMessage(),
      effectiveConfig: effectiveConfig(this.effective),
      remoteConfigStatus: create(RemoteConfigStatusSchema, { lastRemoteConfigHash: this.lastRemoteHash, status: this.remoteStatus }),
    });
  }

  heartbeat(): AgentToServer {
    return agentToServer({ instanceUid: this.uid, sequenceNum: this.next(), capabilities: COLLECTOR_CAPS });
  }

  /** The health tree changed (a pipeline went down, or came back). */
  healthChange(): AgentToServer {
    this.healthy = !this.healthy;
    this.healthRevision++;
    return agentToServer({ instanceUid: this.uid, sequenceNum: this.next(), capabilities: COLLECTOR_CAPS, health: this.healthMessage() });
  }

  /** The effective configuration changed locally (e.g. a new revision on disk). */
  effectiveConfigChange(): AgentToServer {
    this.configRevision++;
    this.effective = { ...this.effective, 'collector.yaml': collectorYaml(this.configRevision) };
    return agentToServer({ instanceUid: this.uid, sequenceNum: this.next(), capabilities: COLLECTOR_CAPS, effectiveConfig: effectiveConfig(this.effective) });
  }

  /** What the supervisor reports while applying an offered configuration. */
  applying(offer: AgentRemoteConfig): AgentToServer {
    this.remoteStatus = RemoteConfigStatuses.RemoteConfigStatuses_APPLYING;
    this.lastRemoteHash = offer.configHash;
    return agentToServer({
      instanceUid: this.uid,
      sequenceNum: this.next(),
      capabilities: COLLECTOR_CAPS,
      remoteConfigStatus: create(RemoteConfigStatusSchema, { lastRemoteConfigHash: offer.configHash, status: this.remoteStatus }),
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
      capabilities: COLLECTOR_CAPS,
      remoteConfigStatus: create(RemoteConfigStatusSchema, { lastRemoteConfigHash: offer.configHash, status: this.remoteStatus }),
      effectiveConfig: effectiveConfig(this.effective),
    });
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
