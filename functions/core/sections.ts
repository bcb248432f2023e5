import { toBinary, toJson } from '@bufbuild/protobuf';
import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import {
  AgentDescriptionSchema,
  AvailableComponentsSchema,
  ComponentHealthSchema,
  EffectiveConfigSchema,
  PackageStatusesSchema,
} from '../gen/opamp/v1/opamp_pb.js';
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

/** Content id of a section message, independent of map entry order. */
export function sectionHash<K extends SectionKind>(kind: K, message: MessageShape<(typeof SECTION_SCHEMAS)[K]>): string {
  const schema: DescMessage = SECTION_SCHEMAS[kind];
  return contentId(stableJson(toJson(schema, message as never)));
}

export function reportedSection<K extends SectionKind>(message: AgentToServer, kind: K): MessageShape<(typeof SECTION_SCHEMAS)[K]> | undefined {
  return message[MESSAGE_FIELD[kind]] as MessageShape<(typeof SECTION_SCHEMAS)[K]> | undefined;
}

export function encodeSection<K extends SectionKind>(kind: K, message: MessageShape<(typeof SECTION_SCHEMAS)[K]>, hash: string): SectionContent {
  const schema: DescMessage = SECTION_SCHEMAS[kind];
  return { kind, hash, bytes: toBinary(schema, message as never) };
}
