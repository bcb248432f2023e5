import { randomUUID } from 'node:crypto';
import type { AgentRecord } from '../core/agent-record.js';
import { RejectedRequestError } from '../core/errors.js';
import { acceptsRestart, OUTBOX_LIMITS } from '../core/agent-commands.js';
import type { QueuedMessage, ReceivedMessage } from '../core/agent-commands.js';
import { matchesSelector } from '../core/selector.js';
import type { Selector } from '../core/selector.js';
import { everyAgent } from '../ports/agent-store.js';
import type { AgentStore } from '../ports/agent-store.js';
import { StoreUnavailableError, WriteConflictError } from '../ports/errors.js';
import { NotFoundError } from './admin/deps.js';

/** The agent cannot take what was asked (it lacks the capability, its queue is full). */
export class ActionRefusedError extends RejectedRequestError {
  override readonly name = 'ActionRefusedError';

  constructor(message: string) {
    super('conflict', 'refused', message);
  }
}

export interface QueuedView {
  id: string;
  expiresAt: string;
}

/** What POST /restarts answers: the agents a restart was queued for, and those skipped with the reason. */
export interface RestartsResult {
  queued: Array<{ instanceUid: string } & QueuedView>;
  skipped: Array<{ instanceUid: string; reason: string }>;
}

const WRITE_ATTEMPTS = 4;

/**
 * Restart commands and custom messages queued through the fleet API. They
 * are written into the agent's record (conditional on its version, like a
 * poll's write) and delivered by the agent's next poll; see
 * core/agent-commands.ts for the at-most-once semantics.
 */
export class AgentActions {
  constructor(
    private readonly deps: {
      agents: AgentStore;
      now: () => number;
      /** How long a queued restart or message waits for the agent. */
      ttlMs: number;
    },
  ) {}

  async queueRestart(instanceUid: string): Promise<QueuedView> {
    const id = randomUUID();
    const expiresAt = this.deps.now() + this.deps.ttlMs;
    await this.update(instanceUid, (record) => {
      if (!acceptsRestart(record.capabilities)) {
        throw new ActionRefusedError(`agent ${instanceUid} does not accept restart commands (no AcceptsRestartCommand capability)`);
      }
      return { ...record, pendingCommand: { type: 'restart', id, queuedAt: this.deps.now(), expiresAt } };
    });
    return { id, expiresAt: new Date(expiresAt).toISOString() };
  }

  /** Queues a restart for every matching agent that accepts one; the others are listed with the reason. */
  async queueRestarts(selector: Selector): Promise<RestartsResult> {
    const queued: RestartsResult['queued'] = [];
    const skipped: RestartsResult['skipped'] = [];
    for await (const record of everyAgent(this.deps.agents, (r) => matchesSelector(selector, r.attributes))) {
      if (!acceptsRestart(record.capabilities)) {
        skipped.push({ instanceUid: record.instanceUid, reason: 'does not accept restart commands' });
        continue;
      }
      queued.push({ instanceUid: record.instanceUid, ...(await this.queueRestart(record.instanceUid)) });
    }
    return { queued, skipped };
  }

  async queueMessage(instanceUid: string, message: { capability: string; type: string; data: Uint8Array }): Promise<QueuedView> {
    if (message.data.byteLength > OUTBOX_LIMITS.maxDataBytes) {
      throw new ActionRefusedError(`message data is ${message.data.byteLength} bytes; at most ${OUTBOX_LIMITS.maxDataBytes} can be queued`);
    }
    const now = this.deps.now();
    const queued: QueuedMessage = {
      id: randomUUID(),
      capability: message.capability,
      type: message.type,
      data: Buffer.from(message.data).toString('base64'),
      queuedAt: now,
      expiresAt: now + this.deps.ttlMs,
    };
    await this.update(instanceUid, (record) => {
      // A list kept only in part cannot tell: the agent may have advertised it.
      if (!record.customCapabilitiesTruncated && !(record.customCapabilities ?? []).includes(message.capability)) {
        throw new ActionRefusedError(`agent ${instanceUid} has not advertised the custom capability ${message.capability}`);
      }
      const outbox = (record.outbox ?? []).filter((m) => now < m.expiresAt);
      if (outbox.length >= OUTBOX_LIMITS.maxMessages) {
        throw new ActionRefusedError(`agent ${instanceUid} already has ${outbox.length} messages waiting; try again after it polls`);
      }
      return { ...record, outbox: [...outbox, queued] };
    });
    return { id: queued.id, expiresAt: new Date(queued.expiresAt).toISOString() };
  }

  async messages(instanceUid: string): Promise<{ received: ReceivedMessage[]; queued: QueuedMessage[] }> {
    const record = await this.deps.agents.get(instanceUid);
    if (!record || record.movedTo) throw new NotFoundError(`no agent with instance uid ${instanceUid}`);
    return { received: await this.deps.agents.listInbox(instanceUid), queued: record.outbox ?? [] };
  }

  /** Read, change, write conditional on the version read; on a lost race, again. */
  private async update(instanceUid: string, change: (record: AgentRecord) => AgentRecord): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const record = await this.deps.agents.get(instanceUid);
      if (!record || record.movedTo) throw new NotFoundError(`no agent with instance uid ${instanceUid}`);
      const next = change(structuredClone(record));
      try {
        await this.deps.agents.put({ record: { ...next, version: record.version + 1 }, expectedVersion: record.version });
        return;
      } catch (error) {
        if (!(error instanceof WriteConflictError)) throw error;
        if (attempt >= WRITE_ATTEMPTS) throw new StoreUnavailableError('dynamodb', `agent ${instanceUid} is changing too fast to queue to it`, { cause: error });
      }
    }
  }
}
