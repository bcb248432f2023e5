import { create } from '@bufbuild/protobuf';
import { AgentCapabilities, AgentRemoteConfigSchema } from '../../gen/opamp/v1/opamp_pb.js';
import type { ServerToAgent } from '../../gen/opamp/v1/opamp_pb.js';
import type { AgentRecord } from '../agent-record.js';
import { agentHas } from '../capabilities.js';
import { EMPTY_FLEET } from '../fleet.js';
import type { ConfigMeta } from '../fleet.js';
import type { FeatureOutcome, PollContext, PollInput } from '../poll-types.js';
import { configToOffer, recordOffer } from '../remote-config.js';

/** The configuration to offer, recorded as offered; its body is attached by the caller. */
export function offerConfig({ input, record: next, desired }: PollContext): FeatureOutcome | undefined {
  const { options, now } = input;
  // Checked first so that agents that take no configuration never resolve one.
  if (!options.features.remoteConfig || !agentHas(next.capabilities, AgentCapabilities.AgentCapabilities_AcceptsRemoteConfig)) return undefined;
  const config = configToOffer({
    capabilities: next.capabilities,
    reported: next.remoteConfigStatus,
    offer: next.configOffer,
    target: desired.config,
    now,
    policy: options.remoteConfig,
    withheld: input.withheldConfigs,
  });
  if (!config) return undefined;
  return {
    reply: { remoteConfig: remoteConfigReply(config) },
    changes: { configOffer: recordOffer(next.configOffer, config, now, input.message.sequenceNum) },
    events: ['config-offered'],
    attachConfig: config,
  };
}

/** The configuration a retried message's lost reply offered, if it can still be served. */
export function reofferedConfig(stored: AgentRecord, input: PollInput): ConfigMeta | undefined {
  const offer = stored.configOffer;
  if (offer?.offeredSeq !== input.message.sequenceNum) return undefined;
  const fleet = input.fleet ?? EMPTY_FLEET;
  // A staged rollout may offer a kept version that the bucket no longer holds.
  const kept = [...fleet.rollouts.values()].flatMap((r) => [r.to, r.from]).flatMap((t) => (t?.kind === 'config' && t.config ? [t.config] : []));
  return [...fleet.configs.values(), ...kept].find((c) => c.hash === offer.hash && !input.withheldConfigs?.has(c.hash));
}

export function remoteConfigReply(config: ConfigMeta): ServerToAgent['remoteConfig'] {
  // The files are filled in by the caller from object storage (see PollDecision.attachConfig).
  return create(AgentRemoteConfigSchema, { configHash: new Uint8Array(Buffer.from(config.hash, 'base64')) });
}
