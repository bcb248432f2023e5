import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodePresence, encodePresence, mergeSightings, presenceKey, presenceView } from '../../../functions/core/presence.js';
import type { PresenceEntry, PresenceSighting } from '../../../functions/core/presence.js';

const T0 = Date.UTC(2026, 0, 1);
const uidArb = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => {
  const hex = Buffer.from(b).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
});

describe('presenceKey', () => {
  it('folds the two halves of the uid into 64 bits', () => {
    expect(presenceKey('00000000-0000-0001-0000-000000000003')).toBe('0000000000000002');
    expect(presenceKey('ffffffff-ffff-ffff-0000-000000000000')).toBe('ffffffffffffffff');
  });

  it('keeps uids apart that share their first half (UUIDv7 minted in one millisecond)', () => {
    expect(presenceKey('01890a5d-ac96-774b-bcce-b302099a8057')).not.toBe(presenceKey('01890a5d-ac96-774b-bcce-b302099a8058'));
  });

  it('refuses text that is not a uid', () => {
    expect(() => presenceKey('not-a-uid')).toThrow(RangeError);
  });
});

describe('encodePresence / decodePresence', () => {
  it('gives back every entry, to the second or a sixtieth of its interval, whatever the mix of times and intervals', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.record({ uid: uidArb, offset: fc.integer({ min: 0, max: 3_600_000 }), interval: fc.constantFrom(0, 15, 30, 60, 300, 86_400) }), {
          selector: (e) => e.uid,
          maxLength: 300,
        }),
        (raw) => {
          const entries: PresenceEntry[] = raw.map((e) => ({ key: presenceKey(e.uid), seenAt: T0 + e.offset, intervalSeconds: e.interval }));
          const { baseSeconds, bytes } = encodePresence(entries);
          const decoded = new Map(decodePresence(baseSeconds, bytes).map((e) => [e.key, e]));
          expect(decoded.size).toBe(entries.length);
          for (const e of entries) {
            const back = decoded.get(e.key)!;
            const step = Math.max(1, Math.floor(e.intervalSeconds / 60)) * 1000;
            expect(back.intervalSeconds).toBe(e.intervalSeconds);
            expect(back.seenAt).toBeLessThanOrEqual(e.seenAt);
            expect(e.seenAt - back.seenAt).toBeLessThan(step);
          }
        },
      ),
    );
  });

  it('costs eight bytes an agent and two a time step', () => {
    // 2,000 agents over one minute at one interval: two bytes of header per second, eight per agent.
    const entries = Array.from({ length: 2000 }, (_, i) => ({
      key: i.toString(16).padStart(16, '0'),
      seenAt: T0 + Math.floor((i * 60_000) / 2000),
      intervalSeconds: 300,
    }));

    const { bytes } = encodePresence(entries);

    expect(bytes.length).toBeGreaterThanOrEqual(2000 * 8);
    expect(bytes.length).toBeLessThanOrEqual(2000 * 8 + 60 * 3 + 8);
  });

  it('keeps 200 agents polling every 300 s under 2 KB: two write units', () => {
    // One entry a second and a half: steps of 5 s hold three agents each.
    const entries = Array.from({ length: 200 }, (_, i) => ({
      key: (i * 7919).toString(16).padStart(16, '0'),
      seenAt: T0 + i * 1500,
      intervalSeconds: 300,
    }));

    const { bytes } = encodePresence(entries);

    expect(bytes.length).toBeLessThanOrEqual(200 * 8 + 60 * 2 + 8);
  });

  it('refuses a batch cut short or of an unknown format', () => {
    const { baseSeconds, bytes } = encodePresence([{ key: '0123456789abcdef', seenAt: T0, intervalSeconds: 30 }]);
    expect(() => decodePresence(baseSeconds, bytes.subarray(0, bytes.length - 1))).toThrow(/ends early/);
    expect(() => decodePresence(baseSeconds, Uint8Array.of(9, 0))).toThrow(/unknown presence format/);
  });
});

describe('mergeSightings', () => {
  it('keeps the newest sighting of each agent, with its interval', () => {
    const uid = '01890a5d-ac96-774b-bcce-b302099a8057';
    const key = presenceKey(uid);
    const sightings = new Map<string, PresenceSighting>();

    mergeSightings(sightings, [{ key, seenAt: T0 + 60_000, intervalSeconds: 300 }]);
    mergeSightings(sightings, [{ key, seenAt: T0, intervalSeconds: 30 }]);

    expect(presenceView(sightings).lookup(uid)).toEqual({ seenAt: T0 + 60_000, intervalSeconds: 300 });
    expect(presenceView(sightings).lookup('01890a5d-ac96-774b-bcce-b302099a8058')).toBeUndefined();
  });
});
