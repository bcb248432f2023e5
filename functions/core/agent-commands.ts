import { AgentCapabilities } from '../gen/opamp/v1/opamp_pb.js';
import { agentHas } from './capabilities.js';

/**
 * Restart commands and custom messages queued for one agent through the fleet
 * API, delivered on its next poll. Neither has an acknowledgement in OpAMP, so
 * both are delivered at most once: they leave the queue in the reply that
 * carries them, and a lost reply loses them (the API shows when each was
 * delivered).
 */
export interface QueuedCommand {
  type: 'restart';
  id: string;
  queuedAt: number;
  /** A command the agent has not polled for by then is dropped. */
  expiresAt: number;
}

export interface CommandOutcome {
  type: 'restart';
  id: string;
  queuedAt: number;
  deliveredAt?: number;
  expiredAt?: number;
}

export interface QueuedMessage {
  id: string;
  capability: string;
  type: string;
  /** base64 payload. */
  data: string;
  queuedAt: number;
  expiresAt: number;
}

/** Limits that keep queued messages from bloating the record read on every poll. */
export const OUTBOX_LIMITS = { maxMessages: 5, maxDataBytes: 8 * 1024 } as const;

export function acceptsRestart(capabilities: bigint): boolean {
  return agentHas(capabilities, AgentCapabilities.AgentCapabilities_AcceptsRestartCommand);
}

/** The queued command if it is still due and the agent (still) accepts it. */
export function dueCommand(command: QueuedCommand | undefined, capabilities: bigint, now: number): QueuedCommand | undefined {
  if (!command || now >= command.expiresAt || !acceptsRestart(capabilities)) return undefined;
  return command;
}

/** Queued messages whose time ran out, and the first one the agent can take now. */
export function nextMessage(outbox: readonly QueuedMessage[] | undefined, customCapabilities: readonly string[] | undefined, now: number): { deliver?: QueuedMessage; expired: QueuedMessage[] } {
  const live = (outbox ?? []).filter((m) => now < m.expiresAt);
  const expired = (outbox ?? []).filter((m) => now >= m.expiresAt);
  const deliver = live.find((m) => (customCapabilities ?? []).includes(m.capability));
  return { ...(deliver ? { deliver } : {}), expired };
}

/** A message from an agent, as kept in its bounded inbox. */
export interface ReceivedMessage {
  capability: string;
  type: string;
  /** base64 payload, cut to `INBOX_LIMITS.maxDataBytes`. */
  data: string;
  truncated: boolean;
  receivedAt: number;
}

export const INBOX_LIMITS = { keep: 10, maxDataBytes: 16 * 1024 } as const;
