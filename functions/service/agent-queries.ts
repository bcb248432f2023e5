import type { Liveness, LivenessPolicy } from '../core/liveness.js';
import { deriveLiveness } from '../core/liveness.js';
import { NO_PRESENCE } from '../core/presence.js';
import type { PresenceView } from '../core/presence.js';
import { SECTION_KINDS } from '../core/sections.js';
import { matchesSelector } from '../core/selector.js';
import type { Selector } from '../core/selector.js';
import type { AgentStore } from '../ports/agent-store.js';
import { connectionSettingsView, detailView, packagesView, remoteConfigView, summaryView } from './agent-views.js';
import type { FleetState } from '../core/fleet.js';
import type { RemoteConfigPolicy } from '../core/remote-config.js';
import { desiredState } from '../core/desired-state.js';
import type { AgentDetailView, AgentSummaryView, SectionsByKind } from './agent-views.js';

export interface AgentListRequest {
  selector?: Selector | undefined;
  liveness?: Liveness | undefined;
  /** Only agents whose last poll authenticated with this token. */
  token?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

export interface AgentListResult {
  agents: AgentSummaryView[];
  nextCursor?: string;
}

/** The read side of the fleet API. */
export class AgentQueries {
  constructor(
    private readonly agents: AgentStore,
    private readonly now: () => number,
    private readonly liveness: LivenessPolicy,
    /** With it, agent details include where each agent stands with its desired configuration. */
    private readonly configs?: { fleet: { current(): Promise<FleetState> }; policy: RemoteConfigPolicy },
    /** Recent polls from the presence batches (read per window, cached); without it, the records alone. */
    private readonly presence?: { view(): Promise<PresenceView> },
  ) {}

  async list(request: AgentListRequest): Promise<AgentListResult> {
    const now = this.now();
    const presence = await this.presenceView();
    const page = await this.agents.list({
      limit: request.limit,
      cursor: request.cursor,
      where: (record) =>
        (!request.selector || matchesSelector(request.selector, record.attributes)) &&
        (!request.liveness || deriveLiveness(record, now, this.liveness, presence.lookup(record.instanceUid)) === request.liveness) &&
        (request.token === undefined || record.tokenName === request.token),
    });
    return {
      agents: page.records.map((r) => summaryView(r, now, this.liveness, presence.lookup(r.instanceUid))),
      ...(page.cursor ? { nextCursor: page.cursor } : {}),
    };
  }

  async get(instanceUid: string): Promise<AgentDetailView | undefined> {
    const record = await this.agents.get(instanceUid);
    if (!record || record.movedTo) return undefined;
    const refs = SECTION_KINDS.flatMap((kind) => {
      const id = record.sectionIds[kind];
      return id === undefined ? [] : [{ kind, id }];
    });
    const loaded = await Promise.all(refs.map((ref) => this.agents.getSection(instanceUid, ref)));
    const sections: SectionsByKind = {};
    for (const section of loaded) if (section) sections[section.kind] = section;
    const presence = await this.presenceView();
    const view = detailView(record, sections, this.now(), this.liveness, presence.lookup(record.instanceUid));
    if (!this.configs) return view;
    const fleet = await this.configs.fleet.current();
    const desired = desiredState(record, fleet);
    return {
      ...view,
      remoteConfig: remoteConfigView(record, desired.config, this.configs.policy, this.now()),
      packages: packagesView(record, desired),
      connectionSettings: connectionSettingsView(record, desired.settings),
    };
  }

  private async presenceView(): Promise<PresenceView> {
    return this.presence ? this.presence.view() : NO_PRESENCE;
  }
}
