import { describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { MemoryAgentStore } from '../../../functions/adapters/memory/agent-store.js';
import { DEFAULT_CORE_OPTIONS } from '../../../functions/core/core-options.js';
import type { RecordWrite, SectionWrite } from '../../../functions/core/poll-types.js';
import type { SectionRef } from '../../../functions/core/sections.js';
import { createApp, DEFAULT_HTTP_LIMITS } from '../../../functions/http/app.js';
import { NO_TELEMETRY } from '../../../functions/observability/telemetry.js';
import { PollService } from '../../../functions/service/poll-service.js';
import { fullReport, newUidBytes } from '../../support/messages.js';
import { T0, postMessage, uidText } from './support.js';

const POLL_MS = 100;
/** Past the poll deadline and the edge's margin after it: the edge has answered by then. */
const SLOW_MS = POLL_MS + 400;

/** A store whose section writes take longer than a poll may; counts the record writes it receives. */
class SlowSectionStore extends MemoryAgentStore {
  puts = 0;
  sectionWritesDone = 0;

  override async writeSections(puts: readonly SectionWrite[], deletes?: ReadonlyArray<SectionRef & { instanceUid: string }>): Promise<void> {
    await sleep(SLOW_MS);
    await super.writeSections(puts, deletes);
    this.sectionWritesDone += 1;
  }

  override async put(write: RecordWrite): Promise<void> {
    this.puts += 1;
    return super.put(write);
  }
}

describe('a poll answered 503 at its deadline', () => {
  it('stores no record afterwards, even when the store call it was waiting for completes', async () => {
    // Prepare
    const agents = new SlowSectionStore();
    const polls = new PollService({ agents, now: () => T0, newInstanceUid: () => 'unused', options: DEFAULT_CORE_OPTIONS });
    const app = createApp({ agents, polls, limits: DEFAULT_HTTP_LIMITS, deadlines: { pollMs: POLL_MS, healthMs: POLL_MS, apiMs: POLL_MS }, telemetry: NO_TELEMETRY });
    const uid = newUidBytes();

    // Act
    const response = await postMessage(app, fullReport(uid, 1n));
    await response.arrayBuffer();
    while (agents.sectionWritesDone === 0) await sleep(20);
    await sleep(50);

    // Assess: answered as retryable, and the poll stopped before its commit point.
    expect(response.status).toBe(503);
    expect(agents.puts).toBe(0);
    expect(await agents.get(uidText(uid))).toBeUndefined();
  });
});
