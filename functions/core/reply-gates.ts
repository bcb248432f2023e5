import { AgentCapabilities, ServerToAgentFlags } from '../gen/opamp/v1/opamp_pb.js';
import type { ServerToAgent } from '../gen/opamp/v1/opamp_pb.js';
import { agentHas } from './capabilities.js';

/** What the agent said it accepts, as far as the reply is concerned. */
export interface AgentAcceptance {
  capabilities: bigint;
  customCapabilities?: readonly string[] | undefined;
  /** Set when `customCapabilities` is only part of what the agent announced: it then cannot rule a capability out. */
  customCapabilitiesTruncated?: unknown;
}

/**
 * The last word on what a reply may carry. Decisions upstream already consult
 * the capabilities; this removes anything that slipped through, so that no
 * reply ever offers what the agent did not say it accepts, and a command
 * travels alone (only the uid and capabilities may accompany it).
 */
export function gateReply(reply: ServerToAgent, agent: AgentAcceptance): ServerToAgent {
  const caps = agent.capabilities;
  if (reply.remoteConfig && !agentHas(caps, AgentCapabilities.AgentCapabilities_AcceptsRemoteConfig)) {
    delete reply.remoteConfig;
  }
  if (reply.packagesAvailable && !agentHas(caps, AgentCapabilities.AgentCapabilities_AcceptsPackages)) {
    delete reply.packagesAvailable;
  }
  const offers = reply.connectionSettings;
  if (offers) {
    if (offers.opamp && !agentHas(caps, AgentCapabilities.AgentCapabilities_AcceptsOpAMPConnectionSettings)) delete offers.opamp;
    if (offers.ownMetrics && !agentHas(caps, AgentCapabilities.AgentCapabilities_ReportsOwnMetrics)) delete offers.ownMetrics;
    if (offers.ownTraces && !agentHas(caps, AgentCapabilities.AgentCapabilities_ReportsOwnTraces)) delete offers.ownTraces;
    if (offers.ownLogs && !agentHas(caps, AgentCapabilities.AgentCapabilities_ReportsOwnLogs)) delete offers.ownLogs;
    if (!agentHas(caps, AgentCapabilities.AgentCapabilities_AcceptsOtherConnectionSettings)) offers.otherConnections = {};
    const offersSomething = offers.opamp || offers.ownMetrics || offers.ownTraces || offers.ownLogs || Object.keys(offers.otherConnections).length > 0;
    if (!offersSomething) delete reply.connectionSettings;
  }
  const componentsFlag = BigInt(ServerToAgentFlags.ServerToAgentFlags_ReportAvailableComponents);
  if ((reply.flags & componentsFlag) !== 0n && !agentHas(caps, AgentCapabilities.AgentCapabilities_ReportsAvailableComponents)) {
    reply.flags &= ~componentsFlag;
  }
  if (reply.customMessage && !agent.customCapabilitiesTruncated && !(agent.customCapabilities ?? []).includes(reply.customMessage.capability)) {
    delete reply.customMessage;
  }
  if (reply.command) {
    if (!agentHas(caps, AgentCapabilities.AgentCapabilities_AcceptsRestartCommand)) {
      delete reply.command;
    } else {
      return commandOnly(reply);
    }
  }
  return reply;
}

function commandOnly(reply: ServerToAgent): ServerToAgent {
  delete reply.remoteConfig;
  delete reply.connectionSettings;
  delete reply.packagesAvailable;
  delete reply.agentIdentification;
  delete reply.customCapabilities;
  delete reply.customMessage;
  delete reply.errorResponse;
  reply.flags = 0n;
  return reply;
}
