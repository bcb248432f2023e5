import { decidePoll } from '../core/decide-poll.js';
import type { CoreOptions, PollDecision, PollEvent } from '../core/decide-poll.js';
import { instanceUidToText } from '../core/instance-uid.js';
import type { AgentToServer, ServerToAgent } from '../gen/opamp/v1/opamp_pb.js';
import type { AgentStore } from '../ports/agent-store.js';
import { StoreUnavailableError, WriteConflictError } from '../ports/errors.js';

export interface PollServiceDeps {
  agents: AgentStore;
  now: () => number;
  newInstanceUid: () => string;
  options: CoreOptions;
  /** Conflicting concurrent writes are retried this many times before the poll answers 503. */
  maxWriteAttempts?: number;
}

export interface PollOutcome {
  instanceUid: string;
  reply: ServerToAgent;
  events: PollEvent[];
  /** How many times the decision was retried after losing a conditional write. */
  conflicts: number;
}

/**
 * Runs one poll against storage: read the agent's record, let the core decide,
 * store what changed. A lost conditional write means another request for the
 * same agent got there first; the poll then starts over from a fresh read.
 */
export class PollService {
  private readonly maxAttempts: number;

  constructor(private readonly deps: PollServiceDeps) {
    this.maxAttempts = deps.maxWriteAttempts ?? 4;
  }

  async poll(message: AgentToServer, messageDigest: string): Promise<PollOutcome> {
    const instanceUid = instanceUidToText(message.instanceUid);
    for (let attempt = 1; ; attempt++) {
      const record = await this.deps.agents.get(instanceUid);
      const decision = decidePoll({
        record,
        message,
        messageDigest,
        now: this.deps.now(),
        newInstanceUid: this.deps.newInstanceUid,
        options: this.deps.options,
      });
      try {
        await this.commit(decision);
        return { instanceUid, reply: decision.reply, events: decision.events, conflicts: attempt - 1 };
      } catch (error) {
        if (!(error instanceof WriteConflictError)) throw error;
        if (attempt >= this.maxAttempts) {
          throw new StoreUnavailableError('dynamodb', `agent ${instanceUid}: ${attempt} conflicting writes in a row`, { cause: error });
        }
      }
    }
  }

  /**
   * Sections first (they are only referenced once a record points at them),
   * then records in the order the core gave; the first record write is the
   * commit point, so a failure before it leaves nothing visible.
   */
  private async commit(decision: PollDecision): Promise<void> {
    await this.deps.agents.putSections(decision.sections);
    for (const write of decision.records) await this.deps.agents.put(write);
    const copy = decision.copySections;
    if (copy) await this.deps.agents.copySections(copy.from, copy.to, copy.kinds);
  }
}
