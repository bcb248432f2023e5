import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { AgentDescriptionSchema, AgentToServerSchema, EffectiveConfigSchema } from '../../../functions/gen/opamp/v1/opamp_pb.js';
import { boundedCustomCapabilities, boundedErrorMessage, boundedSelectorAttributes, RECORD_BOUNDS } from '../../../functions/core/record-bounds.js';
import { LARGE_SECTION_BYTES, rawSections, sectionHash } from '../../../functions/core/sections.js';
import { description, fullReport } from '../../support/messages.js';
import { ProtocolError } from '../../../functions/core/errors.js';
import { AGENT_UID, knownAgent, msg, packageStatuses, poll, SECOND, T0 } from './fixtures.js';

describe('boundedSelectorAttributes', () => {
  it('keeps a small description whole, without a marker', () => {
    // Act
    const bounded = boundedSelectorAttributes(description({ 'service.name': 'a' }, { 'host.name': 'h', 'service.name': 'b' }));

    // Assess
    expect(bounded).toEqual({ attributes: { 'service.name': 'a', 'host.name': 'h' } });
  });

  it('keeps identifying attributes first and marks how many of the rest did not fit', () => {
    // Prepare: 10,000 attributes of 100 bytes, far over the budget.
    const many = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`a.${i}`, 'v'.repeat(100)]));

    // Act
    const bounded = boundedSelectorAttributes(description({ 'service.name': 'checkout' }, many));

    // Assess
    const size = Object.entries(bounded.attributes).reduce((s, [k, v]) => s + k.length + v.length, 0);
    expect(size).toBeLessThanOrEqual(RECORD_BOUNDS.attributeBytes);
    expect(bounded.attributes['service.name']).toBe('checkout');
    expect(bounded.truncated).toMatchObject({ kept: Object.keys(bounded.attributes).length, total: 10_001 });
    expect(bounded.truncated!.omitted).toHaveLength(RECORD_BOUNDS.omittedNames);
  });

  it('leaves out a value over the value bound whole rather than cutting it', () => {
    // Act
    const bounded = boundedSelectorAttributes(description({ big: 'x'.repeat(RECORD_BOUNDS.attributeValueBytes + 1) }, { small: 'y' }));

    // Assess
    expect(bounded.attributes).toEqual({ small: 'y' });
    expect(bounded.truncated).toEqual({ kept: 1, total: 2, omitted: ['big'] });
  });

  it('leaves out a key over the key bound and names it cut', () => {
    // Prepare
    const key = 'k'.repeat(RECORD_BOUNDS.attributeKeyBytes + 50);

    // Act
    const bounded = boundedSelectorAttributes(description({ [key]: 'v' }));

    // Assess
    expect(bounded.attributes).toEqual({});
    expect(bounded.truncated!.omitted[0]).toBe(`${'k'.repeat(RECORD_BOUNDS.attributeKeyBytes)}…`);
  });
});

describe('boundedCustomCapabilities', () => {
  it('keeps a short list as it is', () => {
    expect(boundedCustomCapabilities(['a', 'b'])).toEqual({ values: ['a', 'b'] });
  });

  it('keeps names in order while they fit and marks the rest', () => {
    // Act
    const bounded = boundedCustomCapabilities(Array.from({ length: 100_000 }, (_, i) => `com.example.${i}`));

    // Assess
    expect(bounded.values.join('').length).toBeLessThanOrEqual(RECORD_BOUNDS.customCapabilityBytes);
    expect(bounded.values[0]).toBe('com.example.0');
    expect(bounded.truncated).toMatchObject({ kept: bounded.values.length, total: 100_000 });
  });
});

describe('boundedErrorMessage', () => {
  it('keeps a short message', () => {
    expect(boundedErrorMessage('exporter failed')).toBe('exporter failed');
  });

  it('cuts a long one and says how much was cut', () => {
    // Act
    const cut = boundedErrorMessage('é'.repeat(1_000_000));

    // Assess
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(RECORD_BOUNDS.errorMessageBytes);
    expect(cut).toMatch(/… \[cut: \d+ more bytes\]$/);
    expect(cut).not.toContain('\uFFFD');
  });
});

describe('rawSections', () => {
  it('finds each section as the request encoded it', () => {
    // Prepare
    const message = fullReport(AGENT_UID, 7n);
    const body = toBinary(AgentToServerSchema, message);

    // Act
    const raw = rawSections(body);

    // Assess
    expect(fromBinary(AgentDescriptionSchema, raw.description!)).toEqual(message.agentDescription);
    expect(fromBinary(EffectiveConfigSchema, raw.effectiveConfig!)).toEqual(message.effectiveConfig);
    expect(Object.keys(raw).sort()).toEqual(['description', 'effectiveConfig', 'health']);
  });

  it('gives nothing for bytes that do not parse', () => {
    const body = toBinary(AgentToServerSchema, fullReport(AGENT_UID, 7n));
    expect(rawSections(body.subarray(0, body.length - 3))).toEqual({});
  });

  it('leaves out a section sent in two parts', () => {
    // Prepare: the description field twice (protobuf merges them).
    const part = toBinary(AgentToServerSchema, create(AgentToServerSchema, { agentDescription: description({ a: '1' }) }));
    const body = new Uint8Array([...part, ...part]);

    // Act
    const raw = rawSections(body);

    // Assess
    expect(raw.description).toBeUndefined();
  });
});

describe('sectionHash of a large description', () => {
  it('is the same for the same content, and differs from the small-section hash only by method', () => {
    // Prepare
    const big = description({}, Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [`a.${i}`, 'v'.repeat(20)])));
    const raw = toBinary(AgentDescriptionSchema, big);
    expect(raw.byteLength).toBeGreaterThanOrEqual(LARGE_SECTION_BYTES);

    // Act
    const first = sectionHash('description', big, raw);
    const again = sectionHash('description', fromBinary(AgentDescriptionSchema, raw), new Uint8Array(raw));

    // Assess
    expect(again).toBe(first);
    expect(sectionHash('description', big, raw.subarray(0, 10))).toBe(sectionHash('description', big));
  });
});

describe('the record size guard', () => {
  it('refuses, with a clear protocol error, state that the bounds do not cover and that would overflow the record', () => {
    // Prepare: 1,500 packages with long names, each summarised in the record.
    const packages = Array.from({ length: 1_500 }, (_, i): [string, string] => [`${'p'.repeat(200)}-${i}`, '1.0.0']);
    const message = msg(1n, { packageStatuses: packageStatuses(packages) });

    // Act
    const error = (() => {
      try {
        poll(message, { record: knownAgent(0n, T0), now: T0 + 30 * SECOND });
      } catch (e) {
        return e;
      }
    })();

    // Assess
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).message).toMatch(/state would take \d+ bytes, over the 307200/);
  });

  it('lets a record just under the guard through', () => {
    // Prepare: 1,000 packages.
    const packages = Array.from({ length: 1_000 }, (_, i): [string, string] => [`package-${i}`, '1.0.0']);

    // Act
    const decision = poll(msg(1n, { packageStatuses: packageStatuses(packages) }), { record: knownAgent(0n, T0), now: T0 + 30 * SECOND });

    // Assess
    expect(Object.keys(decision.records[0]!.record.packages!)).toHaveLength(1_000);
  });
});
