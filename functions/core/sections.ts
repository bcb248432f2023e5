import { toBinary, toJson } from '@bufbuild/protobuf';
import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import { AgentDescriptionSchema, AvailableComponentsSchema, ComponentHealthSchema, EffectiveConfigSchema, PackageStatusesSchema } from '../gen/opamp/v1/opamp_pb.js';
import type { AgentToServer } from '../gen/opamp/v1/opamp_pb.js';
import { contentId, stableJson } from './canonical-hash.js';

/**
 * The large, compressible parts of an agent's status. Each is stored as its own
 * item (or blob), written only when its content changes, so that the record
 * read on every poll stays small.
 */
export const SECTION_KINDS = ['description', 'health', 'effectiveConfig', 'packageStatuses', 'availableComponents'] as const;
export type SectionKind = (typeof SECTION_KINDS)[number];

export const SECTION_SCHEMAS = {
  description: AgentDescriptionSchema,
  health: ComponentHealthSchema,
  effectiveConfig: EffectiveConfigSchema,
  packageStatuses: PackageStatusesSchema,
  availableComponents: AvailableComponentsSchema,
} as const satisfies Record<SectionKind, DescMessage>;

const MESSAGE_FIELD = {
  description: 'agentDescription',
  health: 'health',
  effectiveConfig: 'effectiveConfig',
  packageStatuses: 'packageStatuses',
  availableComponents: 'availableComponents',
} as const satisfies Record<SectionKind, keyof AgentToServer>;

/**
 * Which stored section. Each write of a section is stored under its own id,
 * the content hash plus the writing poll's unique stamp, so that no two polls
 * ever write (or delete) the same item, even when they carry the same content.
 */
export interface SectionRef {
  kind: SectionKind;
  id: string;
}

export function sectionId(hash: string, stamp: string): string {
  return `${hash}~${stamp}`;
}

/** One section as the agent reported it: its content id and protobuf bytes. */
export interface SectionContent {
  kind: SectionKind;
  hash: string;
  bytes: Uint8Array;
}

/**
 * Content id of a section message, independent of map entry order. A large
 * description (it has no maps) is identified by its bytes as sent: rendering
 * 100,000 attributes as canonical JSON costs seconds of CPU. Which way is
 * chosen depends only on the content, so equal content gets equal ids.
 */
export function sectionHash<K extends SectionKind>(kind: K, message: MessageShape<(typeof SECTION_SCHEMAS)[K]>, raw?: Uint8Array): string {
  if (kind === 'description' && raw && raw.byteLength >= LARGE_SECTION_BYTES) return contentId(raw);
  const schema: DescMessage = SECTION_SCHEMAS[kind];
  return contentId(stableJson(toJson(schema, message as never)));
}

/** Sections this large are taken from the request's bytes rather than encoded again. */
export const LARGE_SECTION_BYTES = 64 * 1024;

/** AgentToServer field numbers of the sections (see opamp.proto). */
const FIELD_NUMBERS: Record<number, SectionKind> = { 3: 'description', 5: 'health', 6: 'effectiveConfig', 8: 'packageStatuses', 14: 'availableComponents' };

/**
 * The encoded bytes of each section as the request carries them, found by
 * walking the top level of the AgentToServer wire format (no decoding). A
 * section that appears more than once (protobuf merges the parts) is left
 * out, as is everything when the bytes do not parse: the caller then encodes
 * the decoded message instead.
 */
export function rawSections(body: Uint8Array): Partial<Record<SectionKind, Uint8Array>> {
  const found: Partial<Record<SectionKind, Uint8Array>> = {};
  const repeated = new Set<SectionKind>();
  let at = 0;
  const varint = (): number => {
    let value = 0;
    for (let shift = 0; shift < 64; shift += 7) {
      if (at >= body.length) throw new RangeError('truncated varint');
      const byte = body[at++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value;
    }
    throw new RangeError('varint too long');
  };
  try {
    while (at < body.length) {
      const tag = varint();
      const field = Math.floor(tag / 8);
      const wire = tag & 7;
      if (wire === 0) varint();
      else if (wire === 1) at += 8;
      else if (wire === 5) at += 4;
      else if (wire === 2) {
        const length = varint();
        if (at + length > body.length) return {};
        const kind = FIELD_NUMBERS[field];
        if (kind) {
          if (found[kind]) repeated.add(kind);
          found[kind] = body.subarray(at, at + length);
        }
        at += length;
      } else return {};
    }
  } catch {
    return {};
  }
  if (at !== body.length) return {};
  for (const kind of repeated) delete found[kind];
  return found;
}

export function reportedSection<K extends SectionKind>(message: AgentToServer, kind: K): MessageShape<(typeof SECTION_SCHEMAS)[K]> | undefined {
  return message[MESSAGE_FIELD[kind]] as MessageShape<(typeof SECTION_SCHEMAS)[K]> | undefined;
}

export function encodeSection<K extends SectionKind>(kind: K, message: MessageShape<(typeof SECTION_SCHEMAS)[K]>, hash: string, raw?: Uint8Array): SectionContent {
  if (raw) return { kind, hash, bytes: raw };
  const schema: DescMessage = SECTION_SCHEMAS[kind];
  return { kind, hash, bytes: toBinary(schema, message as never) };
}
