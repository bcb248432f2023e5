import type { ServerFeatures } from './capabilities.js';
import { DEFAULT_SETTINGS_POLICY } from './connection-settings.js';
import type { SettingsPolicy } from './connection-settings.js';
import { DEFAULT_PACKAGES_POLICY } from './packages.js';
import type { PackagesPolicy } from './packages.js';
import { DEFAULT_REMOTE_CONFIG_POLICY } from './remote-config.js';
import type { RemoteConfigPolicy } from './remote-config.js';

export interface CoreOptions {
  features: ServerFeatures;
  /** A heartbeat that changes nothing refreshes last-seen at most this often. */
  lastSeenRefreshMs: number;
  /** Shortest poll interval an agent is expected to use (see sequence.ts). */
  minPollIntervalMs: number;
  /** ReportFullState is not asked again within this time while a request is unanswered, except for an unknown agent. */
  fullStateRetryMs: number;
  /** A gap or reset of one agent is logged at most once in this time (the rest are counted only). */
  noisyEventLogWindowMs: number;
  /** How long a silent agent's record is kept before the store may delete it. */
  recordRetentionMs: number;
  /** How long a temporary uid keeps pointing to the uid assigned to it. */
  redirectRetentionMs: number;
  remoteConfig: RemoteConfigPolicy;
  packages: PackagesPolicy;
  /** Connection settings offers and the poll intervals the server asks for. */
  settings: SettingsPolicy;
  /** The server's own custom capabilities, announced to every agent once (and after it restarts). */
  serverCustomCapabilities: readonly string[];
  /** Window within which flip-flopping identity signals reveal two agents sharing one uid (0: off). */
  duplicateWindowMs: number;
}

export const DEFAULT_CORE_OPTIONS: CoreOptions = {
  features: { remoteConfig: true, packages: true, connectionSettings: true, connectionSettingsRequests: false },
  lastSeenRefreshMs: 24 * 3_600_000,
  minPollIntervalMs: 15_000,
  fullStateRetryMs: 10 * 60_000,
  noisyEventLogWindowMs: 10 * 60_000,
  recordRetentionMs: 30 * 24 * 3_600_000,
  redirectRetentionMs: 24 * 3_600_000,
  remoteConfig: DEFAULT_REMOTE_CONFIG_POLICY,
  packages: DEFAULT_PACKAGES_POLICY,
  settings: DEFAULT_SETTINGS_POLICY,
  serverCustomCapabilities: [],
  duplicateWindowMs: 10 * 60_000,
};
