import { createHash } from 'node:crypto';
import { create, toBinary, fromBinary } from '@bufbuild/protobuf';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { parse as parseUuid, stringify as uuidText } from 'uuid';
import { AnyValueSchema, KeyValueSchema } from '../../functions/gen/opamp/v1/anyvalue_pb.js';
import {
  AgentCapabilities as Caps,
  AgentConfigFileSchema,
  AgentToServerSchema,
  CommandType,
  ComponentHealthSchema,
  ConnectionSettingsStatuses,
  PackageStatusEnum,
  PackageStatusSchema,
  RemoteConfigStatuses,
  ServerToAgentFlags,
  ServerToAgentSchema,
} from '../../functions/gen/opamp/v1/opamp_pb.js';
import type { AgentConfigMap, ComponentHealth, PackageStatus, ServerToAgent } from '../../functions/gen/opamp/v1/opamp_pb.js';
import type { AgentProfile } from './profiles.js';

type Init = MessageInitShape<typeof AgentToServerSchema>;
type Section = 'description' | 'health' | 'effectiveConfig' | 'remoteConfigStatus' | 'packageStatuses' | 'connectionSettingsStatus' | 'customCapabilities';

const ECHO_CAPABILITY = 'io.opentelemetry.demo.echo';

function capabilities(profile: AgentProfile): bigint {
  const names: Array<keyof typeof Caps> =
    profile.kind === 'sdk'
      ? ['AgentCapabilities_ReportsStatus', 'AgentCapabilities_ReportsHealth', 'AgentCapabilities_ReportsHeartbeat']
      : [
          'AgentCapabilities_ReportsStatus',
          'AgentCapabilities_AcceptsRemoteConfig',
          'AgentCapabilities_ReportsEffectiveConfig',
          'AgentCapabilities_AcceptsPackages',
          'AgentCapabilities_ReportsPackageStatuses',
          'AgentCapabilities_AcceptsOpAMPConnectionSettings',
          'AgentCapabilities_AcceptsRestartCommand',
          'AgentCapabilities_ReportsHealth',
          'AgentCapabilities_ReportsRemoteConfig',
          'AgentCapabilities_ReportsHeartbeat',
          'AgentCapabilities_ReportsConnectionSettingsStatus',
        ];
  return names.reduce((bits, name) => bits | BigInt(Caps[name]), 0n);
}

function keyValues(attrs: Record<string, string>) {
  return Object.entries(attrs).map(([key, value]) => create(KeyValueSchema, { key, value: create(AnyValueSchema, { value: { case: 'stringValue', value } }) }));
}

const STARTING_CONFIG = `receivers:
  otlp:
    protocols:
      grpc: {}
exporters:
  debug: {}
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [debug]
`;

export interface PollOutcome {
  /** Seconds until the next poll. */
  nextPollSeconds: number;
  /** What happened, for the demo's log (nothing for a plain heartbeat). */
  events: string[];
}

/**
 * One simulated agent speaking OpAMP over HTTP the way a Collector under its
 * supervisor (or an SDK agent) does: a full report first and whenever asked,
 * then only what changed, and answers to what the server offers.
 */
export class DemoAgent {
  private uid: Uint8Array;
  private seq = 0n;
  private version: string;
  private healthy = true;
  private startedAt = BigInt(Date.now()) * 1_000_000n;
  private config: AgentConfigMap['configMap'] = {
    'collector.yaml': create(AgentConfigFileSchema, { body: new TextEncoder().encode(STARTING_CONFIG), contentType: 'text/yaml' }),
  };
  private remoteStatus: Init['remoteConfigStatus'] = { status: RemoteConfigStatuses.RemoteConfigStatuses_UNSET };
  private packageStatuses: Init['packageStatuses'] | undefined;
  private settingsStatus: Init['connectionSettingsStatus'] | undefined;
  private heartbeatSeconds: number | undefined;
  private dirty = new Set<Section | 'all'>(['all']);
  private outgoing: Init['customMessage'] | undefined;

  constructor(
    readonly profile: AgentProfile,
    private readonly endpoint: string,
    private readonly options: { token?: string | undefined; intervalSeconds: number; maxIntervalSeconds?: number | undefined; random?: () => number },
  ) {
    this.uid = parseUuid(profile.instanceUid);
    this.version = profile.version;
  }

  get instanceUid(): string {
    return uuidText(this.uid);
  }

  /** One poll: what changed goes up, what the server says is acted on. */
  async poll(): Promise<PollOutcome> {
    const events = this.flapHealth();
    const message = create(AgentToServerSchema, this.message());
    const response = await fetch(this.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-protobuf',
        ...(this.options.token ? { authorization: `Bearer ${this.options.token}` } : {}),
      },
      body: toBinary(AgentToServerSchema, message),
    });
    if (response.status === 429 || response.status === 503) {
      const retryAfter = Number(response.headers.get('retry-after'));
      return { nextPollSeconds: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : this.interval() * 2, events: [`server busy (${response.status})`] };
    }
    if (response.status !== 200) {
      // A refused message is lost (as with the Go client): report everything again next time.
      this.dirty.add('all');
      return { nextPollSeconds: this.interval() * 2, events: [`server answered ${response.status}: ${(await response.text()).slice(0, 200)}`] };
    }
    this.dirty.clear();
    this.outgoing = undefined;
    const reply = fromBinary(ServerToAgentSchema, new Uint8Array(await response.arrayBuffer()));
    events.push(...(await this.handle(reply)));
    return { nextPollSeconds: this.interval(), events };
  }

  private interval(): number {
    return Math.min(this.heartbeatSeconds ?? this.options.intervalSeconds, this.options.maxIntervalSeconds ?? Number.POSITIVE_INFINITY);
  }

  private random(): number {
    return (this.options.random ?? Math.random)();
  }

  private flapHealth(): string[] {
    if (this.profile.flapChance === 0 || this.random() >= this.profile.flapChance) return [];
    this.healthy = !this.healthy;
    this.dirty.add('health');
    return [this.healthy ? 'exporter recovered' : 'exporter failing'];
  }

  private health(): ComponentHealth {
    const now = BigInt(Date.now()) * 1_000_000n;
    const component = (healthy: boolean, lastError = '') =>
      create(ComponentHealthSchema, { healthy, status: healthy ? 'StatusOK' : 'StatusRecoverableError', lastError, startTimeUnixNano: this.startedAt, statusTimeUnixNano: now });
    return create(ComponentHealthSchema, {
      healthy: this.healthy,
      status: this.healthy ? 'StatusOK' : 'StatusRecoverableError',
      startTimeUnixNano: this.startedAt,
      statusTimeUnixNano: now,
      ...(this.healthy ? {} : { lastError: 'exporter otlp: connection refused' }),
      componentHealthMap: {
        'pipeline:traces': create(ComponentHealthSchema, {
          healthy: this.healthy,
          status: this.healthy ? 'StatusOK' : 'StatusRecoverableError',
          componentHealthMap: {
            'receiver:otlp': component(true),
            'exporter:otlp': component(this.healthy, this.healthy ? '' : 'connection refused'),
          },
        }),
        'extension:opamp': component(true),
      },
    });
  }

  private message(): Init {
    const all = this.dirty.has('all');
    const wants = (section: Section) => all || this.dirty.has(section);
    const collector = this.profile.kind === 'collector';
    const init: Init = { instanceUid: this.uid, sequenceNum: this.seq++, capabilities: capabilities(this.profile) };
    if (wants('description')) {
      init.agentDescription = {
        identifyingAttributes: keyValues({ 'service.name': this.profile.service, 'service.version': this.version, 'service.instance.id': this.instanceUid }),
        nonIdentifyingAttributes: keyValues({ 'deployment.environment': this.profile.environment, 'host.name': this.profile.host, 'os.type': 'linux' }),
      };
    }
    if (wants('health')) init.health = this.health();
    if (collector && wants('effectiveConfig')) init.effectiveConfig = { configMap: { configMap: this.config } };
    if (collector && wants('remoteConfigStatus')) init.remoteConfigStatus = this.remoteStatus;
    if (collector && wants('packageStatuses') && this.packageStatuses) init.packageStatuses = this.packageStatuses;
    if (collector && wants('connectionSettingsStatus') && this.settingsStatus) init.connectionSettingsStatus = this.settingsStatus;
    if (collector && wants('customCapabilities')) init.customCapabilities = { capabilities: [ECHO_CAPABILITY] };
    if (this.outgoing) init.customMessage = this.outgoing;
    return init;
  }

  private async handle(reply: ServerToAgent): Promise<string[]> {
    const events: string[] = [];
    if (reply.agentIdentification?.newInstanceUid.length) {
      this.uid = reply.agentIdentification.newInstanceUid;
      this.dirty.add('all');
      events.push(`told to use instance uid ${this.instanceUid}`);
    }
    if ((reply.flags & BigInt(ServerToAgentFlags.ServerToAgentFlags_ReportFullState)) !== 0n) this.dirty.add('all');
    if (reply.remoteConfig) events.push(this.applyConfig(reply.remoteConfig.config?.configMap ?? {}, reply.remoteConfig.configHash));
    if (reply.packagesAvailable) events.push(...(await this.installPackages(reply.packagesAvailable)));
    if (reply.connectionSettings) events.push(this.applySettings(reply.connectionSettings));
    if (reply.command?.type === CommandType.CommandType_Restart) {
      this.startedAt = BigInt(Date.now()) * 1_000_000n;
      this.healthy = true;
      this.dirty.add('health');
      events.push('restarted');
    }
    if (reply.customMessage?.capability === ECHO_CAPABILITY) {
      this.outgoing = { capability: ECHO_CAPABILITY, type: 'echo', data: reply.customMessage.data };
      this.dirty.add('customCapabilities');
      events.push(`custom message "${reply.customMessage.type}" received, echoing it`);
    }
    return events;
  }

  private applyConfig(files: AgentConfigMap['configMap'], hash: Uint8Array): string {
    this.dirty.add('remoteConfigStatus');
    if (this.profile.rejectsConfigs) {
      this.remoteStatus = {
        lastRemoteConfigHash: hash,
        status: RemoteConfigStatuses.RemoteConfigStatuses_FAILED,
        errorMessage: `collector ${this.version} cannot load this configuration: unknown component type in ${Object.keys(files).join(', ') || 'an empty configuration'}`,
      };
      return 'rejected a configuration (FAILED)';
    }
    this.config = files;
    this.remoteStatus = { lastRemoteConfigHash: hash, status: RemoteConfigStatuses.RemoteConfigStatuses_APPLIED };
    this.dirty.add('effectiveConfig');
    return `applied configuration ${Buffer.from(hash).toString('hex').slice(0, 12)}`;
  }

  /**
   * Downloads each offered package and checks it against the offered content
   * hash, as an agent must; a package that does not arrive intact is reported
   * failed (and the agent keeps what it had).
   */
  private async installPackages(offer: NonNullable<ServerToAgent['packagesAvailable']>): Promise<string[]> {
    const packages: Record<string, PackageStatus> = {};
    const events: string[] = [];
    for (const [name, available] of Object.entries(offer.packages)) {
      const label = `${name || 'the agent'} ${available.version}`;
      const problem = await this.download(available.file);
      const previous = this.packageStatuses?.packages?.[name];
      packages[name] = create(PackageStatusSchema, {
        name,
        agentHasVersion: problem ? (previous?.agentHasVersion ?? (name === '' ? this.version : '')) : available.version,
        agentHasHash: problem ? (previous?.agentHasHash ?? new Uint8Array()) : available.hash,
        serverOfferedVersion: available.version,
        serverOfferedHash: available.hash,
        status: problem ? PackageStatusEnum.PackageStatusEnum_InstallFailed : PackageStatusEnum.PackageStatusEnum_Installed,
        errorMessage: problem ?? '',
      });
      if (problem) {
        events.push(`could not install ${label}: ${problem}`);
      } else if (name === '' && available.version !== this.version) {
        // The agent itself was upgraded: it now describes itself with the new version.
        this.version = available.version;
        this.dirty.add('description');
        events.push(`upgraded itself to ${available.version}`);
      } else {
        events.push(`installed ${label}`);
      }
    }
    this.packageStatuses = { packages, serverProvidedAllPackagesHash: offer.allPackagesHash };
    this.dirty.add('packageStatuses');
    return events;
  }

  /** Why a package file is unusable, or undefined when it arrived as offered. */
  private async download(file: { downloadUrl: string; contentHash: Uint8Array } | undefined): Promise<string | undefined> {
    if (!file?.downloadUrl) return 'no download URL offered';
    try {
      const response = await fetch(file.downloadUrl);
      if (!response.ok) return `download failed: HTTP ${response.status}`;
      const body = new Uint8Array(await response.arrayBuffer());
      if (file.contentHash.length && !Buffer.from(createHash('sha256').update(body).digest()).equals(Buffer.from(file.contentHash))) {
        return 'the download does not match the offered content hash';
      }
      return undefined;
    } catch (error) {
      return `download failed: ${(error as Error).message}`;
    }
  }

  private applySettings(offer: NonNullable<ServerToAgent['connectionSettings']>): string {
    const seconds = Number(offer.opamp?.heartbeatIntervalSeconds ?? 0n);
    if (seconds > 0) this.heartbeatSeconds = seconds;
    this.settingsStatus = { lastConnectionSettingsHash: offer.hash, status: ConnectionSettingsStatuses.ConnectionSettingsStatuses_APPLIED };
    this.dirty.add('connectionSettingsStatus');
    return `applied connection settings${seconds > 0 ? ` (polls every ${seconds} s)` : ''}`;
  }
}
