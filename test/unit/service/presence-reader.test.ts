import { describe, expect, it } from 'vitest';
import { MemoryPresenceStore } from '../../../functions/adapters/memory/presence-store.js';
import { presenceKey } from '../../../functions/core/presence.js';
import { PresenceReader } from '../../../functions/service/presence-reader.js';

const T0 = Date.UTC(2026, 0, 1);
const MINUTE = 60_000;
const UID = '01890a5d-ac96-774b-bcce-b302099a8057';

function setup() {
  const clock = { now: T0 + 30 * MINUTE };
  const store = new MemoryPresenceStore();
  const reader = new PresenceReader({ store, now: () => clock.now, windowMs: MINUTE, lookbackMs: 20 * MINUTE, cacheMs: 15_000 });
  const write = (flushedAt: number, seenAt: number, intervalSeconds = 30) =>
    store.write({ instanceId: 'i', sequence: flushedAt, flushedAt, entries: [{ key: presenceKey(UID), seenAt, intervalSeconds }] }, MINUTE);
  return { clock, store, reader, write };
}

describe('PresenceReader', () => {
  it('reads each window of the lookback once, then only the windows that can still change', async () => {
    // Prepare
    const { clock, store, reader } = setup();

    // Act
    await reader.view();
    const first = store.reads;
    await reader.view();
    const cached = store.reads - first;
    clock.now += MINUTE;
    await reader.view();
    const later = store.reads - first;

    // Assess: 20 minutes of one-minute windows, the current one included.
    expect(first).toBe(21);
    expect(cached).toBe(0);
    // The window that just closed, the current one, and the new one.
    expect(later).toBe(3);
  });

  it('shows the newest sighting of an agent across windows and instances', async () => {
    const { clock, reader, write } = setup();
    await write(clock.now - 10 * MINUTE, clock.now - 11 * MINUTE, 300);
    await write(clock.now - 2 * MINUTE, clock.now - 3 * MINUTE, 60);
    await write(clock.now - 25 * MINUTE, clock.now - 25 * MINUTE, 30);

    const view = await reader.view();

    expect(view.lookup(UID)).toEqual({ seenAt: clock.now - 3 * MINUTE, intervalSeconds: 60 });
  });

  it('sees a batch written into a recent window after an earlier read', async () => {
    const { clock, reader, write } = setup();
    await reader.view();

    await write(clock.now, clock.now - 5_000);
    clock.now += 15_000;
    const view = await reader.view();

    expect(view.lookup(UID)?.seenAt).toBe(Math.floor((clock.now - 20_000) / 1000) * 1000);
  });
});
