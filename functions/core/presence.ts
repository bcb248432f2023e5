/**
 * Presence: which agents a function instance answered, and when, written as one
 * batch per instance instead of a write per agent. This module holds the pure
 * parts: the compact key an agent is known by in a batch, and the binary layout
 * of a batch's entries.
 *
 * A batch names each agent by a 64-bit key: the two halves of its 16-byte uid
 * XOR-ed together. Eight bytes instead of sixteen halve what a batch costs to
 * write (a write unit per KB): at a 300 s interval a poll then costs under a
 * hundredth of a write unit. Folding both halves keeps time-ordered uids
 * (UUIDv7: timestamp first) and counter-like uids (counter last) apart alike;
 * two agents of a 100,000-agent fleet share a key with a chance of about 3e-10.
 * Sharing one only makes a silent agent look as alive as its twin.
 */

export interface PresenceEntry {
  /** The agent's presence key (see presenceKey). */
  key: string;
  /** When it was answered (ms since the epoch; stored to the second). */
  seenAt: number;
  /** The interval it polls at, in seconds, as steered or observed; 0 when unknown. */
  intervalSeconds: number;
}

/** What a reader knows of one agent from the presence batches. */
export interface PresenceSighting {
  seenAt: number;
  intervalSeconds: number;
}

/** Answers which agents were seen recently, by instance uid. */
export interface PresenceView {
  lookup(instanceUid: string): PresenceSighting | undefined;
}

export const NO_PRESENCE: PresenceView = { lookup: () => undefined };

const KEY_BYTES = 8;
const FORMAT_VERSION = 1;

/** The 16-hex-digit key of an instance uid in canonical text form. */
export function presenceKey(instanceUid: string): string {
  const hex = instanceUid.replaceAll('-', '');
  if (hex.length !== 32) throw new RangeError(`not an instance uid: ${instanceUid}`);
  const folded = BigInt(`0x${hex.slice(0, 16)}`) ^ BigInt(`0x${hex.slice(16)}`);
  return folded.toString(16).padStart(16, '0');
}

/**
 * Entries as bytes: grouped by interval, then by time step; within a step
 * only the keys. A step is a second, or a sixtieth of the group's interval when
 * that is longer (last-seen needs to be right to within an interval, not a
 * second, and fewer steps make a batch smaller). Times are deltas in steps
 * from `baseSeconds` (the earliest entry) and from the previous step of the
 * same group, so a busy step costs two bytes of header and eight per agent.
 *
 *   varint version, varint groups,
 *   per group: varint interval, varint steps,
 *     per step: varint delta, varint count, count x 8-byte key
 */
export function encodePresence(entries: readonly PresenceEntry[]): { baseSeconds: number; bytes: Uint8Array } {
  const baseSeconds = entries.length ? Math.floor(entries.reduce((m, e) => Math.min(m, e.seenAt), Infinity) / 1000) : 0;
  const groups = new Map<number, Map<number, string[]>>();
  for (const e of entries) {
    const byInterval = groups.get(e.intervalSeconds) ?? new Map<number, string[]>();
    groups.set(e.intervalSeconds, byInterval);
    const second = Math.floor((Math.floor(e.seenAt / 1000) - baseSeconds) / stepSeconds(e.intervalSeconds));
    const keys = byInterval.get(second) ?? [];
    byInterval.set(second, keys);
    keys.push(e.key);
  }
  const out = new ByteWriter(entries.length * (KEY_BYTES + 1) + 16);
  out.varint(FORMAT_VERSION);
  out.varint(groups.size);
  for (const [interval, seconds] of groups) {
    out.varint(interval);
    out.varint(seconds.size);
    let previous = 0;
    for (const second of [...seconds.keys()].sort((a, b) => a - b)) {
      const keys = seconds.get(second)!;
      out.varint(second - previous);
      previous = second;
      out.varint(keys.length);
      for (const key of keys) out.bytes(Buffer.from(key, 'hex'));
    }
  }
  return { baseSeconds, bytes: out.done() };
}

export function decodePresence(baseSeconds: number, bytes: Uint8Array): PresenceEntry[] {
  const input = new ByteReader(bytes);
  const version = input.varint();
  if (version !== FORMAT_VERSION) throw new RangeError(`unknown presence format ${version}`);
  const entries: PresenceEntry[] = [];
  for (let groups = input.varint(); groups > 0; groups--) {
    const intervalSeconds = input.varint();
    const step = stepSeconds(intervalSeconds);
    let second = 0;
    for (let seconds = input.varint(); seconds > 0; seconds--) {
      second += input.varint();
      const seenAt = (baseSeconds + second * step) * 1000;
      for (let count = input.varint(); count > 0; count--) {
        entries.push({ key: Buffer.from(input.take(KEY_BYTES)).toString('hex'), seenAt, intervalSeconds });
      }
    }
  }
  return entries;
}

/** The time resolution of a group of agents polling every `intervalSeconds`. */
function stepSeconds(intervalSeconds: number): number {
  return Math.max(1, Math.floor(intervalSeconds / 60));
}

/** The newest sighting of each key among `entries`, merged into `into`. */
export function mergeSightings(into: Map<string, PresenceSighting>, entries: Iterable<PresenceEntry>): void {
  for (const e of entries) {
    const known = into.get(e.key);
    if (!known || e.seenAt > known.seenAt || (e.seenAt === known.seenAt && e.intervalSeconds > known.intervalSeconds)) {
      into.set(e.key, { seenAt: e.seenAt, intervalSeconds: e.intervalSeconds });
    }
  }
}

/** A view over merged sightings. */
export function presenceView(sightings: ReadonlyMap<string, PresenceSighting>): PresenceView {
  return { lookup: (instanceUid) => sightings.get(presenceKey(instanceUid)) };
}

class ByteWriter {
  private buffer: Uint8Array;
  private length = 0;

  constructor(capacity: number) {
    this.buffer = new Uint8Array(Math.max(16, capacity));
  }

  private room(n: number): void {
    if (this.length + n <= this.buffer.length) return;
    const next = new Uint8Array(Math.max(this.buffer.length * 2, this.length + n));
    next.set(this.buffer.subarray(0, this.length));
    this.buffer = next;
  }

  varint(value: number): void {
    if (!Number.isInteger(value) || value < 0) throw new RangeError(`varint out of range: ${value}`);
    this.room(8);
    let v = value;
    while (v >= 0x80) {
      this.buffer[this.length++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buffer[this.length++] = v;
  }

  bytes(data: Uint8Array): void {
    this.room(data.length);
    this.buffer.set(data, this.length);
    this.length += data.length;
  }

  done(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}

class ByteReader {
  private offset = 0;

  constructor(private readonly data: Uint8Array) {}

  varint(): number {
    let value = 0;
    let scale = 1;
    for (;;) {
      if (this.offset >= this.data.length) throw new RangeError('presence batch ends early');
      const byte = this.data[this.offset++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 0x80;
      if (scale > 2 ** 49) throw new RangeError('presence varint too long');
    }
  }

  take(n: number): Uint8Array {
    if (this.offset + n > this.data.length) throw new RangeError('presence batch ends early');
    const slice = this.data.subarray(this.offset, this.offset + n);
    this.offset += n;
    return slice;
  }
}
