import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { AgentRecord, ReportedApplyStatus } from '../../core/agent-record.js';
import type { RemoteConfigOffer } from '../../core/remote-config.js';
import type { PackagesOffer } from '../../core/packages.js';
import type { SectionKind } from '../../core/sections.js';
import { settingsHashOf } from '../../core/connection-settings.js';
import { AGENT_STATE_SORT_KEY, TTL_ATTRIBUTE, agentKey } from './table-schema.js';

type Item = Record<string, AttributeValue>;

/**
 * AgentRecord <-> DynamoDB item. Written by hand rather than with the generic
 * marshaller: 64-bit counters must stay bigint, optional fields must vanish
 * rather than be stored empty, and the item read on every poll must stay small.
 */
export function recordToItem(record: AgentRecord): Item {
  const item: Item = {
    pk: { S: agentKey(record.instanceUid) },
    sk: { S: AGENT_STATE_SORT_KEY },
    version: { N: String(record.version) },
    seq: { N: record.sequenceNum.toString() },
    digest: { S: record.lastMessageDigest },
    caps: { N: record.capabilities.toString() },
    firstSeenAt: { N: String(record.firstSeenAt) },
    lastSeenAt: { N: String(record.lastSeenAt) },
    attrs: { M: mapOfStrings(record.attributes) },
    sections: { M: mapOfStrings(record.sections as Record<string, string>) },
    sectionIds: { M: mapOfStrings(record.sectionIds as Record<string, string>) },
    [TTL_ATTRIBUTE]: { N: String(record.expiresAt) },
  };
  setNumber(item, 'disconnectedAt', record.disconnectedAt);
  setNumber(item, 'fullStateAt', record.fullStateRequestedAt);
  if (record.fullStateRequestedSeq !== undefined) item.fullStateSeq = { N: record.fullStateRequestedSeq.toString() };
  setNumber(item, 'cadence', record.pollCadenceMs);
  setNumber(item, 'cadenceSeen', record.cadenceCandidateMs);
  setNumber(item, 'noisyAt', record.noisyEventLoggedAt);
  if (record.healthy !== undefined) item.healthy = { BOOL: record.healthy };
  if (record.availableComponentsHash !== undefined) item.componentsHash = { S: record.availableComponentsHash };
  if (record.remoteConfigStatus) item.rcs = applyStatusToItem(record.remoteConfigStatus);
  if (record.connectionSettingsStatus) {
    // Usually the status of the last offer: its hash is then not stored twice.
    const status = record.connectionSettingsStatus;
    item.css =
      status.hash !== '' && status.hash === record.settingsOffer?.hash
        ? { M: { offered: { BOOL: true }, status: { N: String(status.status) }, error: { S: status.errorMessage } } }
        : applyStatusToItem(status);
  }
  if (record.serverProvidedAllPackagesHash !== undefined) item.pkgsHash = { S: record.serverProvidedAllPackagesHash };
  if (record.customCapabilities) item.customCaps = { L: record.customCapabilities.map((c) => ({ S: c })) };
  if (record.movedTo) item.movedTo = { S: record.movedTo };
  if (record.supersededSections?.length) {
    item.superseded = { L: record.supersededSections.map((ref) => ({ S: `${ref.kind}#${ref.id}` })) };
  }
  if (record.configOffer) item.configOffer = configOfferToItem(record.configOffer);
  if (record.componentsRequested !== undefined) item.componentsRequested = { S: record.componentsRequested };
  if (record.sentCustomCapabilities !== undefined) item.sentCustomCaps = { S: record.sentCustomCapabilities };
  setNumber(item, 'inboxCount', record.inboxCount);
  // Nested, rarely present state travels as one JSON attribute (bigints as strings).
  const extra = {
    ...(record.packagesOffer ? { packagesOffer: { ...record.packagesOffer, offeredSeq: record.packagesOffer.offeredSeq.toString() } } : {}),
    ...(record.packages ? { packages: record.packages } : {}),
    ...(record.attributesTruncated ? { attributesTruncated: record.attributesTruncated } : {}),
    ...(record.customCapabilitiesTruncated ? { customCapabilitiesTruncated: record.customCapabilitiesTruncated } : {}),
    ...(record.pendingCommand ? { pendingCommand: record.pendingCommand } : {}),
    ...(record.lastCommand ? { lastCommand: record.lastCommand } : {}),
    ...(record.outbox ? { outbox: record.outbox } : {}),
    ...(record.fingerprint ? { fingerprint: record.fingerprint } : {}),
    ...(record.duplicates ? { duplicates: record.duplicates } : {}),
    ...compactSettings(record),
    ...(record.settingsProblems?.length ? { settingsProblems: record.settingsProblems } : {}),
    ...(record.tokenName !== undefined ? { tokenName: record.tokenName } : {}),
    ...(record.issuedCertificate ? { issuedCertificate: record.issuedCertificate } : {}),
    ...(record.heldCertificates?.length ? { heldCertificates: record.heldCertificates } : {}),
  };
  if (Object.keys(extra).length > 0) item.extra = { S: JSON.stringify(extra) };
  return item;
}

export function itemToRecord(item: Item, instanceUid: string): AgentRecord {
  const record: AgentRecord = {
    instanceUid,
    version: num(item.version),
    sequenceNum: BigInt(item.seq?.N ?? '0'),
    lastMessageDigest: item.digest?.S ?? '',
    capabilities: BigInt(item.caps?.N ?? '0'),
    firstSeenAt: num(item.firstSeenAt),
    lastSeenAt: num(item.lastSeenAt),
    attributes: stringsOfMap(item.attrs),
    sections: stringsOfMap(item.sections) as Partial<Record<SectionKind, string>>,
    sectionIds: stringsOfMap(item.sectionIds) as Partial<Record<SectionKind, string>>,
    expiresAt: num(item[TTL_ATTRIBUTE]),
  };
  if (item.disconnectedAt) record.disconnectedAt = num(item.disconnectedAt);
  if (item.fullStateAt) record.fullStateRequestedAt = num(item.fullStateAt);
  if (item.fullStateSeq?.N) record.fullStateRequestedSeq = BigInt(item.fullStateSeq.N);
  if (item.cadence) record.pollCadenceMs = num(item.cadence);
  if (item.cadenceSeen) record.cadenceCandidateMs = num(item.cadenceSeen);
  if (item.noisyAt) record.noisyEventLoggedAt = num(item.noisyAt);
  if (item.healthy?.BOOL !== undefined) record.healthy = item.healthy.BOOL;
  if (item.componentsHash?.S !== undefined) record.availableComponentsHash = item.componentsHash.S;
  if (item.rcs?.M) record.remoteConfigStatus = itemToApplyStatus(item.rcs.M);
  if (item.css?.M) record.connectionSettingsStatus = itemToApplyStatus(item.css.M);
  // (an `offered` status takes its hash from the offer, once that is read below)
  if (item.pkgsHash?.S !== undefined) record.serverProvidedAllPackagesHash = item.pkgsHash.S;
  if (item.customCaps?.L) record.customCapabilities = item.customCaps.L.map((v) => v.S ?? '');
  if (item.movedTo?.S) record.movedTo = item.movedTo.S;
  if (item.superseded?.L) {
    record.supersededSections = item.superseded.L.map((v) => {
      const [kind = '', id = ''] = (v.S ?? '').split('#');
      return { kind: kind as SectionKind, id };
    });
  }
  if (item.configOffer?.M) record.configOffer = itemToConfigOffer(item.configOffer.M);
  if (item.componentsRequested?.S !== undefined) record.componentsRequested = item.componentsRequested.S;
  if (item.sentCustomCaps?.S !== undefined) record.sentCustomCapabilities = item.sentCustomCaps.S;
  if (item.inboxCount) record.inboxCount = num(item.inboxCount);
  if (item.extra?.S) {
    const extra = JSON.parse(item.extra.S) as Partial<Omit<AgentRecord, 'packagesOffer'>> &
      CompactSettings & {
        packagesOffer?: Omit<PackagesOffer, 'offeredSeq'> & { offeredSeq: string };
      };
    if (extra.packagesOffer) record.packagesOffer = { ...extra.packagesOffer, offeredSeq: BigInt(extra.packagesOffer.offeredSeq) };
    if (extra.packages) record.packages = extra.packages;
    if (extra.attributesTruncated) record.attributesTruncated = extra.attributesTruncated;
    if (extra.customCapabilitiesTruncated) record.customCapabilitiesTruncated = extra.customCapabilitiesTruncated;
    if (extra.pendingCommand) record.pendingCommand = extra.pendingCommand;
    if (extra.lastCommand) record.lastCommand = extra.lastCommand;
    if (extra.outbox) record.outbox = extra.outbox;
    if (extra.fingerprint) record.fingerprint = extra.fingerprint;
    if (extra.duplicates) record.duplicates = extra.duplicates;
    expandSettings(extra, record);
    if (extra.settingsProblems) record.settingsProblems = extra.settingsProblems;
    if (item.css?.M?.offered?.BOOL && record.settingsOffer && record.connectionSettingsStatus) {
      record.connectionSettingsStatus.hash = record.settingsOffer.hash;
    }
    if (extra.tokenName !== undefined) record.tokenName = extra.tokenName;
    if (extra.issuedCertificate) record.issuedCertificate = extra.issuedCertificate;
    if (extra.heldCertificates) record.heldCertificates = extra.heldCertificates;
  }
  return record;
}

/**
 * Connection settings state in short form. The record is read on every poll
 * and every write of it is billed per started kilobyte, so the offer and the
 * applied settings (usually the same) must not push it over one: the applied
 * settings are stored as "the offer's" when they are, and the interval asked
 * for only when it is not the offer's.
 */
interface CompactSettings {
  /**
   * The offer: hash (when it is not the one its parts give), base hash, parts,
   * interval, time, sequence number, attempts, sent parts (when not all).
   */
  so?: { h?: string; b: string; p: Record<string, string>; i?: number; t: number; q: string; n: number; s?: string[] };
  /** The applied settings: only time and whether assumed when they are the offer's. */
  sa?: { h?: string; b?: string; p?: Record<string, string>; i?: number; t: number; a: 0 | 1 };
  /** The interval last asked for, when it is not the offer's (0: none). */
  hb?: number;
}

function compactSettings(record: AgentRecord): CompactSettings {
  const offer = record.settingsOffer;
  const applied = record.settingsApplied;
  const out: CompactSettings = {};
  if (offer) {
    const allSent = offer.sent.length === Object.keys(offer.parts).length && offer.sent.every((k) => k in offer.parts);
    out.so = {
      ...(offer.hash !== settingsHashOf(offer.parts) ? { h: offer.hash } : {}),
      b: offer.baseHash,
      p: offer.parts,
      ...(offer.heartbeatSeconds !== undefined ? { i: offer.heartbeatSeconds } : {}),
      t: offer.offeredAt,
      q: offer.offeredSeq.toString(),
      n: offer.attempts,
      ...(allSent ? {} : { s: offer.sent }),
    };
  }
  if (applied) {
    const sameAsOffer =
      offer !== undefined &&
      applied.hash === offer.hash &&
      applied.baseHash === offer.baseHash &&
      applied.heartbeatSeconds === offer.heartbeatSeconds &&
      JSON.stringify(applied.parts) === JSON.stringify(offer.parts);
    out.sa = sameAsOffer
      ? { t: applied.at, a: applied.assumed ? 1 : 0 }
      : {
          h: applied.hash,
          b: applied.baseHash,
          p: applied.parts,
          ...(applied.heartbeatSeconds !== undefined ? { i: applied.heartbeatSeconds } : {}),
          t: applied.at,
          a: applied.assumed ? 1 : 0,
        };
  }
  if (record.heartbeatSeconds !== offer?.heartbeatSeconds) out.hb = record.heartbeatSeconds ?? 0;
  return out;
}

function expandSettings(compact: CompactSettings, record: AgentRecord): void {
  const { so, sa } = compact;
  if (so) {
    record.settingsOffer = {
      hash: so.h ?? settingsHashOf(so.p),
      baseHash: so.b,
      parts: so.p,
      ...(so.i !== undefined ? { heartbeatSeconds: so.i } : {}),
      offeredAt: so.t,
      offeredSeq: BigInt(so.q),
      attempts: so.n,
      sent: so.s ?? Object.keys(so.p),
    };
  }
  if (sa) {
    const from = sa.h === undefined ? record.settingsOffer : undefined;
    const heartbeatSeconds = from ? from.heartbeatSeconds : sa.i;
    record.settingsApplied = {
      hash: sa.h ?? from?.hash ?? '',
      baseHash: sa.b ?? from?.baseHash ?? '',
      parts: sa.p ?? from?.parts ?? {},
      ...(heartbeatSeconds !== undefined ? { heartbeatSeconds } : {}),
      at: sa.t,
      assumed: sa.a === 1,
    };
  }
  const asked = compact.hb ?? so?.i;
  if (asked !== undefined && asked !== 0) record.heartbeatSeconds = asked;
}

function applyStatusToItem(status: ReportedApplyStatus): AttributeValue {
  return { M: { hash: { S: status.hash }, status: { N: String(status.status) }, error: { S: status.errorMessage } } };
}

function itemToApplyStatus(map: Item): ReportedApplyStatus {
  return { hash: map.hash?.S ?? '', status: num(map.status), errorMessage: map.error?.S ?? '' };
}

function setNumber(item: Item, name: string, value: number | undefined): void {
  if (value !== undefined) item[name] = { N: String(value) };
}

function num(value: AttributeValue | undefined): number {
  return value?.N === undefined ? 0 : Number(value.N);
}

function mapOfStrings(values: Record<string, string>): Item {
  const out: Item = {};
  for (const [k, v] of Object.entries(values)) if (v !== undefined) out[k] = { S: v };
  return out;
}

function stringsOfMap(value: AttributeValue | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value?.M ?? {})) out[k] = v.S ?? '';
  return out;
}

function configOfferToItem(offer: RemoteConfigOffer): AttributeValue {
  const map: Item = {
    hash: { S: offer.hash },
    name: { S: offer.name },
    at: { N: String(offer.offeredAt) },
    seq: { N: offer.offeredSeq.toString() },
    attempts: { N: String(offer.attempts) },
    acked: { BOOL: offer.acknowledged },
  };
  setNumber(map, 'rolledBackAt', offer.rolledBackAt);
  if (offer.rolledBackTo !== undefined) map.rolledBackTo = { S: offer.rolledBackTo };
  if (offer.rollbackMessage !== undefined) map.rollbackMessage = { S: offer.rollbackMessage };
  return { M: map };
}

function itemToConfigOffer(map: Item): RemoteConfigOffer {
  const offer: RemoteConfigOffer = {
    hash: map.hash?.S ?? '',
    name: map.name?.S ?? '',
    offeredAt: num(map.at),
    offeredSeq: BigInt(map.seq?.N ?? '0'),
    attempts: num(map.attempts),
    acknowledged: map.acked?.BOOL ?? false,
  };
  if (map.rolledBackAt) offer.rolledBackAt = num(map.rolledBackAt);
  if (map.rolledBackTo?.S !== undefined) offer.rolledBackTo = map.rolledBackTo.S;
  if (map.rollbackMessage?.S !== undefined) offer.rollbackMessage = map.rollbackMessage.S;
  return offer;
}
