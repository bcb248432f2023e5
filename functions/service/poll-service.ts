import { decidePoll } from '../core/decide-poll.js';
import type { CoreOptions } from '../core/core-options.js';
import type { PollDecision, PollEvent } from '../core/poll-types.js';
import type { ConfigMeta, FleetState } from '../core/fleet.js';
import { INBOX_LIMITS } from '../core/agent-commands.js';
import type { ResolvedPackageSet } from '../core/packages.js';
import type { DownloadUrlSigner } from '../ports/object-store.js';
import type { AgentConfigMap } from '../gen/opamp/v1/opamp_pb.js';
import { instanceUidToText } from '../core/instance-uid.js';
import type { AgentToServer, ServerToAgent } from '../gen/opamp/v1/opamp_pb.js';
import type { AgentRecord } from '../core/agent-record.js';
import type { AgentStore } from '../ports/agent-store.js';
import { StoreUnavailableError, WriteConflictError } from '../ports/errors.js';
import { ConfigContentChangedError } from './config-bodies.js';
import { assertBeforeDeadline } from '../ports/deadline.js';
import { LARGE_SECTION_BYTES, rawSections } from '../core/sections.js';
import { overtaken } from '../core/sequence.js';
import type { SectionRef } from '../core/sections.js';
import { randomBytes } from 'node:crypto';
import { AgentCapabilities } from '../gen/opamp/v1/opamp_pb.js';
import { agentHas } from '../core/capabilities.js';
import { sha256 } from '../core/canonical-hash.js';
import { takesConnectionSettings } from '../core/connection-settings.js';
import type { ConnectionContext, IssuedCertificateRecord } from '../core/connection-settings.js';
import { EMPTY_FLEET } from '../core/fleet.js';
import { redactStringsInPlace } from '../core/url-redaction.js';
import { CsrRejectedError } from './certificate-authority.js';
import type { CertificateIssuer } from './certificate-issuer.js';
import type { CertificateResolver } from './certificate-resolver.js';
import type { SecretResolver } from './secret-resolver.js';
import { renewIssuedCertificate } from './certificate-renewal.js';
import { DEFAULT_EXPIRY_WARNING_MS, DEFAULT_RENEW_AT_FRACTION, expiringWithin } from '../core/certificate-expiry.js';
import type { PresenceBatcher } from './presence-batcher.js';

/** The URL a request came in on, without query or fragment: the agent endpoint as agents reach it. */
function endpointOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const parsed = new URL(url);
    parsed.search = '';
    parsed.hash = '';
    return parsed.toString();
  } catch {
    return undefined;
  }
}

/** A cache the poll path can revalidate with a generation it read itself. */
export interface RevalidatedCache<T> {
  current(): Promise<T>;
  due?(): boolean;
  accept?(generation: string): Promise<void>;
}

export interface PollServiceDeps {
  agents: AgentStore;
  now: () => number;
  newInstanceUid: () => string;
  options: CoreOptions;
  /** The fleet's desired state (cached); without it nothing is offered. */
  fleet?: RevalidatedCache<FleetState>;
  /** The agent token cache, revalidated with the same read as the fleet state. */
  tokens?: { due(): boolean; accept(generation: string): Promise<void> } | undefined;
  /** Configuration bodies for offers (cached by hash). */
  configBodies?: { load(config: ConfigMeta): Promise<AgentConfigMap> };
  /** Signs package download URLs at poll time. */
  urlSigner?: DownloadUrlSigner;
  /** Conflicting concurrent writes are retried this many times before the poll answers 503. */
  maxWriteAttempts?: number;
  /** The URL agents are told to poll (destination_endpoint); without it, the URL each request came in on. */
  publicUrl?: string | undefined;
  /** Deliverable agent tokens by name, for credential rotation offers. */
  deliverableToken?: ((name: string) => string | undefined) | undefined;
  /** The token replacing one being revoked, by the revoked token's name. */
  replacementToken?: ((name: string) => string | undefined) | undefined;
  /** Certificate material named by settings documents. */
  certificates?: CertificateResolver | undefined;
  /** Secret values named by settings documents. */
  secrets?: SecretResolver | undefined;
  /** Signs agents' CSRs; without it a CSR is refused. */
  issuer?: CertificateIssuer | undefined;
  /** The share of an issued certificate's lifetime after which it is renewed. */
  renewAtFraction?: number | undefined;
  /** How long before expiry a certificate an agent holds is reported. */
  certificateExpiryWarningMs?: number | undefined;
  /** Notes every answered agent in this instance's presence batch (liveness without a write per agent). */
  presence?: Pick<PresenceBatcher, 'seen' | 'flushIfDue'> | undefined;
}

/** What the HTTP edge knows about the request, beyond the message. */
export interface PollRequest {
  /** The URL the request came in on. */
  url?: string | undefined;
  /** The Authorization header, as sent. */
  authorization?: string | undefined;
  /** The agent token the request authenticated with (known after `authorize`). */
  tokenName?: (() => string | undefined) | undefined;
}

export interface PollOutcome {
  instanceUid: string;
  reply: ServerToAgent;
  events: PollEvent[];
  /** Events already logged for this agent within the log window: count them, do not log them. */
  quietEvents: PollEvent[];
  /** How many times the decision was retried after losing a conditional write. */
  conflicts: number;
  /** How many certificates the agent holds that expire within the warning window. */
  expiringCertificates: number;
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

  /**
   * `authorize`, when given, runs after the first read (which may have
   * revalidated the token set) and before anything is decided; it throws to
   * refuse the request.
   */
  async poll(
    message: AgentToServer,
    messageDigest: string | (() => string),
    hooks: { authorize?: (() => Promise<void>) | undefined; request?: PollRequest | undefined; body?: Uint8Array | undefined } = {},
  ): Promise<PollOutcome> {
    const instanceUid = instanceUidToText(message.instanceUid);
    // No URL query string (a presigned signature, a token) from agent text is ever stored.
    redactStringsInPlace(message);
    const arrivedAt = this.deps.now();
    const first = await this.readRecord(instanceUid);
    const firstStored = first.record && !first.record.movedTo ? first.record.sequenceNum : undefined;
    await hooks.authorize?.();
    const fleet = await this.deps.fleet?.current();
    const capabilities = message.capabilities !== 0n ? message.capabilities : (first.record?.capabilities ?? 0n);
    const takesSettings = takesConnectionSettings(capabilities);
    const connection = await this.connectionContext(hooks.request, takesSettings ? fleet : undefined, takesSettings);
    const issuedCertificate =
      (await this.answerCsr(message, first.record, instanceUid, fleet)) ??
      (await renewIssuedCertificate(this.deps.issuer, first.record, instanceUid, fleet ?? EMPTY_FLEET, this.deps.now(), this.deps.renewAtFraction ?? DEFAULT_RENEW_AT_FRACTION));
    const withheldConfigs = new Set<string>();
    // Large sections are stored as the request carried them: encoding them again costs seconds.
    const raw = hooks.body && hooks.body.byteLength >= LARGE_SECTION_BYTES ? rawSections(hooks.body) : undefined;
    // Sections written by attempts whose record lost the race: nobody refers to them.
    const orphans: Array<SectionRef & { instanceUid: string }> = [];
    for (let attempt = 1; ; attempt++) {
      const record = attempt === 1 && first.fresh ? first.record : await this.deps.agents.get(instanceUid);
      first.fresh = false;
      const now = this.deps.now();
      const decision = decidePoll({
        record,
        message,
        messageDigest,
        now,
        newInstanceUid: this.deps.newInstanceUid,
        options: this.deps.options,
        fleet,
        withheldConfigs,
        writeId: () => randomBytes(6).toString('base64url'),
        connection,
        issuedCertificate,
        rawSections: raw,
        overtaken: overtaken(record, firstStored, message.sequenceNum, messageDigest, arrivedAt),
      });
      // A "lost" write may in fact have committed (its response was lost and the
      // SDK's retry then failed the condition): never delete what the record uses.
      const inUse = new Set(Object.values(record?.sectionIds ?? {}));
      decision.sectionDeletes.push(...orphans.filter((o) => !inUse.has(o.id)));
      if (decision.attachPackages) await this.signPackageUrls(decision, decision.attachPackages);
      if (decision.attachConfig && !(await this.attachConfig(decision, decision.attachConfig))) {
        // The files changed under the recorded metadata; decide again without offering them.
        withheldConfigs.add(decision.attachConfig.hash);
        attempt--;
        continue;
      }
      try {
        await this.commit(decision);
        await this.notePresence(decision, record, instanceUid, now);
        const held = { ...record, ...(issuedCertificate ? { issuedCertificate } : {}) };
        const expiring = expiringWithin(held, this.deps.now(), this.deps.certificateExpiryWarningMs ?? DEFAULT_EXPIRY_WARNING_MS).length;
        return { instanceUid, reply: decision.reply, events: decision.events, quietEvents: decision.quietEvents ?? [], conflicts: attempt - 1, expiringCertificates: expiring };
      } catch (error) {
        if (!(error instanceof WriteConflictError)) throw error;
        orphans.push(...decision.sections.map((s) => ({ instanceUid: s.instanceUid, kind: s.content.kind, id: s.id })));
        if (attempt >= this.maxAttempts) {
          throw new StoreUnavailableError('dynamodb', `agent ${instanceUid}: ${attempt} conflicting writes in a row`, { cause: error });
        }
      }
    }
  }

  /**
   * Notes the answered agent (under the uid it is known by from now on) and
   * writes this instance's presence batch when it is due. The batcher keeps
   * what it could not write, so a failure here never fails the poll.
   */
  private async notePresence(decision: PollDecision, record: AgentRecord | undefined, instanceUid: string, now: number): Promise<void> {
    const presence = this.deps.presence;
    if (!presence) return;
    const written = decision.records.at(-1)?.record;
    const current = written ?? record;
    presence.seen(written?.instanceUid ?? instanceUid, now, current?.heartbeatSeconds);
    await presence.flushIfDue();
  }

  /**
   * The agent's record; when this instance's caches are due for revalidation,
   * read in the same call as their generations (so that a poll stays at one
   * read call), and the caches revalidated with them.
   */
  private async readRecord(instanceUid: string): Promise<{ record: AgentRecord | undefined; fresh: boolean }> {
    const { agents, fleet, tokens } = this.deps;
    const due = (fleet?.due?.() ?? false) || (tokens?.due() ?? false);
    if (!due || !agents.getWithGenerations) return { record: await agents.get(instanceUid), fresh: true };
    const { record, generations } = await agents.getWithGenerations(instanceUid);
    await Promise.all([fleet?.accept?.(generations.fleet), tokens?.accept(generations.auth)]);
    return { record, fresh: true };
  }

  /**
   * What connection settings offers need to know about this request and the
   * server. Certificates are looked up only with a fleet state (not for agents
   * that take no settings); the agent's token is always noted.
   */
  private async connectionContext(request: PollRequest | undefined, fleet: FleetState | undefined, takesSettings: boolean): Promise<ConnectionContext | undefined> {
    if (!this.deps.options.features.connectionSettings) return undefined;
    const [certificate, secret] = await Promise.all([
      fleet && this.deps.certificates ? this.deps.certificates.lookup(fleet) : () => undefined,
      fleet && this.deps.secrets ? this.deps.secrets.lookup(fleet) : () => undefined,
    ]);
    const authorization = request?.authorization;
    return {
      // Only settings offers use it: most agents' heartbeats skip parsing the URL.
      endpoint: takesSettings ? (this.deps.publicUrl ?? endpointOf(request?.url)) : undefined,
      ...(authorization ? { presented: { header: authorization, tokenName: request?.tokenName?.() } } : {}),
      deliverableToken: (name) => this.deps.deliverableToken?.(name),
      replacementToken: (name) => this.deps.replacementToken?.(name),
      now: this.deps.now(),
      certificate,
      secret,
    };
  }

  /**
   * Signs the CSR a message carries (the agent-initiated CSR flow). A CSR
   * already signed is answered with the same certificate (a retried request
   * must not mint another); one that cannot be signed refuses the whole
   * message with a BadRequest before anything is stored.
   */
  private async answerCsr(message: AgentToServer, record: AgentRecord | undefined, instanceUid: string, fleet: FleetState | undefined): Promise<IssuedCertificateRecord | undefined> {
    const csr = message.connectionSettingsRequest?.opamp?.certificateRequest?.csr;
    if (!csr || csr.byteLength === 0) return undefined;
    if (!this.deps.issuer || !this.deps.options.features.connectionSettingsRequests) {
      throw new CsrRejectedError('this server does not sign certificates (no CA is configured)');
    }
    if (record?.issuedCertificate?.csrDigest === sha256(csr).toString('hex')) return record.issuedCertificate;
    const capabilities = message.capabilities !== 0n ? message.capabilities : (record?.capabilities ?? 0n);
    if (!agentHas(capabilities, AgentCapabilities.AgentCapabilities_AcceptsOpAMPConnectionSettings)) {
      throw new CsrRejectedError('the agent does not accept OpAMP connection settings (AcceptsOpAMPConnectionSettings), so a certificate could not be delivered');
    }
    return this.deps.issuer.issue(csr, instanceUid, fleet ?? EMPTY_FLEET);
  }

  /** Gives every offered package file a download URL, signed now and never stored. */
  private async signPackageUrls(decision: PollDecision, set: ResolvedPackageSet): Promise<void> {
    const offered = decision.reply.packagesAvailable;
    if (!offered) return;
    if (!this.deps.urlSigner) throw new Error('packages were offered but no URL signer is wired');
    for (const pkg of set.packages) {
      const file = offered.packages[pkg.name]?.file;
      if (file) file.downloadUrl = await this.deps.urlSigner.signGet(pkg.objectKey, this.deps.options.packages.urlTtlSeconds);
    }
  }

  /** Fills the offered configuration's files into the reply; false when they no longer match their hash. */
  private async attachConfig(decision: PollDecision, config: ConfigMeta): Promise<boolean> {
    if (!decision.reply.remoteConfig) return true;
    if (!this.deps.configBodies) throw new Error('a configuration was offered but no configuration body source is wired');
    try {
      decision.reply.remoteConfig.config = await this.deps.configBodies.load(config);
      return true;
    } catch (error) {
      if (error instanceof ConfigContentChangedError) return false;
      throw error;
    }
  }

  /**
   * Sections first (including those carried over to a newly assigned uid):
   * a record may only point at sections that exist. Then the records, in the
   * order the core gave; the first record write is the commit point, so a
   * failure before it leaves nothing visible.
   */
  private async commit(decision: PollDecision): Promise<void> {
    // Each step first checks the request's deadline: past it the edge may
    // already have answered 503, and a poll answered 503 must not store
    // anything afterwards (least of all its record, the commit point).
    assertBeforeDeadline();
    await this.deps.agents.writeSections(decision.sections, decision.sectionDeletes);
    const inbox = decision.inbox;
    if (inbox) {
      assertBeforeDeadline();
      await this.deps.agents.appendInbox(inbox.instanceUid, inbox.index, inbox.message, INBOX_LIMITS.keep);
    }
    const copy = decision.copySections;
    if (copy) {
      assertBeforeDeadline();
      await this.deps.agents.copySections(copy.from, copy.to, copy.sections);
    }
    for (const write of decision.records) {
      assertBeforeDeadline();
      await this.deps.agents.put(write);
    }
  }
}
