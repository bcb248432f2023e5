import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { description, fullReport, newUidBytes } from '../../support/messages.js';
import { buildApp, encode, postBytes } from './support.js';
import { concat, expectEdgeAnswer, lengthField, nestedAnyValue, RunCounter, storeContent, withAttribute, within } from './fuzz-support.js';

/**
 * Fuzzing the agent endpoint with what a broken or hostile agent could send.
 * Property, every run: an answer within the deadline, never a 5xx, and a
 * rejected request leaves the store as it was (empty).
 */
const DEADLINE_MS = 3_000;
/** Generous for a loaded machine; the runs take a few seconds per test. */
const TEST_TIMEOUT_MS = 60_000;
const runs = new RunCounter();
afterAll(() => runs.print('fuzz-agent-to-server'));

async function post(name: string, body: Uint8Array<ArrayBuffer>, limits = {}): Promise<Response> {
  runs.count(name);
  const { app, agents } = buildApp({ limits });
  const response = await within(DEADLINE_MS, postBytes(app, body));
  await expectEdgeAnswer(response.clone(), agents);
  return response;
}

const validBodies = fc
  .tuple(fc.integer({ min: 0, max: 50 }), fc.dictionary(fc.string({ maxLength: 12 }), fc.string({ maxLength: 24 }), { maxKeys: 6 }))
  .map(([seq, attrs]) => encode(fullReport(newUidBytes(), BigInt(seq), { agentDescription: description({ 'service.name': 'fuzz', ...attrs }) })));

type Mutation = { kind: 'flip'; at: number; bits: number } | { kind: 'cut'; at: number } | { kind: 'insert'; at: number; bytes: Uint8Array } | { kind: 'repeat'; from: number; length: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bits: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant('repeat' as const), from: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }),
);

function mutate(body: Uint8Array, mutations: Mutation[]): Uint8Array<ArrayBuffer> {
  let out = Uint8Array.from(body);
  for (const m of mutations) {
    if (out.length === 0) break;
    if (m.kind === 'flip') out[m.at % out.length]! ^= m.bits;
    else if (m.kind === 'cut') out = out.slice(0, m.at % out.length);
    else if (m.kind === 'insert') out = concat(out.subarray(0, m.at % out.length), m.bytes, out.subarray(m.at % out.length));
    else out = concat(out, out.subarray(m.from % out.length, (m.from % out.length) + m.length));
  }
  return new Uint8Array(out);
}

/** Byte sequences no UTF-8 decoder may accept: a stray continuation byte, an overlong form, a surrogate, a cut sequence, bytes never used. */
const INVALID_UTF8 = [[0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xff], [0xfe], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xf4, 0x90, 0x80, 0x80]];

describe('fuzzing POST /v1/opamp bodies', () => {
  it(
    'answers random bytes with 200 or 400, never storing a rejected one',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ maxLength: 600 }), async (bytes) => {
          await post('random bytes', new Uint8Array(bytes));
        }),
        { numRuns: 300 },
      );
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'answers mutated valid messages (bits flipped, cut, bytes inserted, slices repeated)',
    async () => {
      await fc.assert(
        fc.asyncProperty(validBodies, fc.array(mutation, { minLength: 1, maxLength: 4 }), async (body, mutations) => {
          await post('mutated messages', mutate(body, mutations));
        }),
        { numRuns: 300 },
      );
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'answers AnyValue nested to any depth without exhausting the stack',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 400 }), async (depth) => {
          const response = await post('nesting depths', withAttribute(newUidBytes(), Buffer.from('deep'), nestedAnyValue(depth)));
          expect([200, 400]).toContain(response.status);
        }),
        { numRuns: 50, examples: [[1], [98], [99], [100], [101], [400]] },
      );
      // Nesting as deep as the body limit allows (100,000 levels: 1.3 MB).
      const deepest = await post('nesting depths', withAttribute(newUidBytes(), Buffer.from('deep'), nestedAnyValue(100_000)));
      expect(deepest.status).toBe(400);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'refuses invalid UTF-8 in any string with 400, storing nothing',
    async () => {
      const text = fc.string({ unit: 'grapheme-ascii', maxLength: 20 });
      await fc.assert(
        fc.asyncProperty(text, text, fc.constantFrom(...INVALID_UTF8), fc.boolean(), async (before, after, bad, inKey) => {
          const broken = concat(Buffer.from(before), new Uint8Array(bad), Buffer.from(after));
          const body = inKey ? withAttribute(newUidBytes(), broken, lengthField(1, Buffer.from('v'))) : withAttribute(newUidBytes(), Buffer.from('k'), lengthField(1, broken));
          const response = await post('invalid utf-8', body);
          expect(response.status).toBe(400);
        }),
        { numRuns: 150 },
      );
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'answers huge repeated fields within the body limit, and 413 beyond it, storing nothing then',
    async () => {
      const limit = 256 * 1024;
      const attributes = fc.record({ count: fc.integer({ min: 1, max: 10_000 }), valueBytes: fc.integer({ min: 0, max: 64 }) });
      await fc.assert(
        fc.asyncProperty(attributes, async ({ count, valueBytes }) => {
          const uid = newUidBytes();
          const value = lengthField(1, Buffer.alloc(valueBytes, 0x61));
          const one = lengthField(1, concat(lengthField(1, Buffer.from('attribute')), lengthField(2, value)));
          const body = concat(lengthField(1, uid), lengthField(3, concat(...Array.from({ length: count }, () => one))));
          const response = await post('huge repeated fields', body, { maxRequestBytes: limit });
          expect(response.status).toBe(body.byteLength > limit ? 413 : 200);
        }),
        { numRuns: 10 },
      );
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 60_000 }), async (count) => {
          // custom_capabilities (field 12): `count` capability names.
          const names = concat(...Array.from({ length: count }, (_, i) => lengthField(1, Buffer.from(`io.example.capability.${i}`))));
          const body = concat(lengthField(1, newUidBytes()), lengthField(12, names));
          const response = await post('huge repeated fields', body, { maxRequestBytes: limit });
          expect(response.status).toBe(body.byteLength > limit ? 413 : 200);
        }),
        { numRuns: 6, examples: [[1], [60_000]] },
      );
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'keeps the store of a rejected request exactly as it was, next to accepted ones',
    async () => {
      // One app for the whole run: accepted polls build up state, rejected ones must not change it.
      const { app, agents } = buildApp();
      await fc.assert(
        fc.asyncProperty(validBodies, fc.array(mutation, { maxLength: 3 }), async (body, mutations) => {
          runs.count('shared store');
          const before = await storeContent(agents);
          const snapshot = JSON.stringify(await agents.list({ limit: 10_000 }), (_, v) => (typeof v === 'bigint' ? `${v}` : v));
          const response = await within(DEADLINE_MS, postBytes(app, mutations.length ? mutate(body, mutations) : body));
          expect([200, 400]).toContain(response.status);
          if (response.status !== 200) {
            expect(await storeContent(agents)).toEqual(before);
            expect(JSON.stringify(await agents.list({ limit: 10_000 }), (_, v) => (typeof v === 'bigint' ? `${v}` : v))).toBe(snapshot);
          }
        }),
        { numRuns: 200 },
      );
    },
    TEST_TIMEOUT_MS,
  );
});
