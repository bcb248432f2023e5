import { mergeSightings, presenceView } from '../core/presence.js';
import type { PresenceEntry, PresenceSighting, PresenceView } from '../core/presence.js';
import { windowStartOf } from '../ports/presence-store.js';
import type { PresenceStore } from '../ports/presence-store.js';

export interface PresenceReaderOptions {
  store: PresenceStore;
  now: () => number;
  windowMs: number;
  /** How far back batches are read: enough to judge every agent's liveness at its interval. */
  lookbackMs: number;
  /** How long one merged view is served before the newest windows are read again. */
  cacheMs: number;
}

/**
 * The fleet API's view of presence: one read per window of the lookback, the
 * first time; after that only the windows that can still change. A window is
 * final one window after it ends (an instance's clock may run a little behind,
 * and a write may be in flight), and final windows are kept until they leave
 * the lookback. The cost of a listing is therefore a bounded number of reads,
 * whatever the number of agents or pages.
 */
export class PresenceReader {
  private readonly final = new Map<number, PresenceEntry[]>();
  private cached: { at: number; view: PresenceView } | undefined;
  private loading: Promise<PresenceView> | undefined;
  /** Window reads made so far. */
  reads = 0;

  constructor(private readonly options: PresenceReaderOptions) {}

  async view(): Promise<PresenceView> {
    const now = this.options.now();
    if (this.cached && now - this.cached.at < this.options.cacheMs) return this.cached.view;
    this.loading ??= this.load(now).finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async load(now: number): Promise<PresenceView> {
    const { windowMs, lookbackMs, store } = this.options;
    const first = windowStartOf(now - lookbackMs, windowMs);
    const last = windowStartOf(now, windowMs);
    for (const start of this.final.keys()) if (start < first) this.final.delete(start);
    const starts: number[] = [];
    for (let start = first; start <= last; start += windowMs) starts.push(start);
    const loaded = await Promise.all(
      starts.map(async (start) => {
        const known = this.final.get(start);
        if (known) return known;
        this.reads++;
        const entries = await store.readWindow(start, windowMs);
        if (start + 2 * windowMs <= now) this.final.set(start, entries);
        return entries;
      }),
    );
    const sightings = new Map<string, PresenceSighting>();
    for (const entries of loaded) mergeSightings(sightings, entries);
    const view = presenceView(sightings);
    this.cached = { at: now, view };
    return view;
  }
}
