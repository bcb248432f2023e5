import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { gunzipSync } from 'node:zlib';
import type { Hono } from 'hono';
import { v7 as uuidv7 } from 'uuid';
import { MemoryAgentStore } from '../../../functions/adapters/memory/agent-store.js';
import type { AgentRecord } from '../../../functions/core/agent-record.js';
import { DEFAULT_CORE_OPTIONS } from '../../../functions/core/core-options.js';
import type { CoreOptions } from '../../../functions/core/core-options.js';
import type { RecordWrite, SectionWrite } from '../../../functions/core/poll-types.js';
import { instanceUidToText } from '../../../functions/core/instance-uid.js';
import type { SectionRef } from '../../../functions/core/sections.js';
import type { LivenessPolicy } from '../../../functions/core/liveness.js';
import { AgentToServerSchema, ServerToAgentSchema } from '../../../functions/gen/opamp/v1/opamp_pb.js';
import type { AgentToServer, ServerToAgent } from '../../../functions/gen/opamp/v1/opamp_pb.js';
import { fleetApiRoutes } from '../../../functions/http/fleet-api-routes.js';
import { createApp, DEFAULT_HTTP_LIMITS } from '../../../functions/http/app.js';
import type { HttpLimits } from '../../../functions/http/app.js';
import { NO_TELEMETRY } from '../../../functions/observability/telemetry.js';
import type { Telemetry } from '../../../functions/observability/telemetry.js';
import type { AgentListQuery, AgentPage } from '../../../functions/ports/agent-store.js';
import { AgentQueries } from '../../../functions/service/agent-queries.js';
import { PollService } from '../../../functions/service/poll-service.js';
import { MemoryPresenceStore } from '../../../functions/adapters/memory/presence-store.js';
import { PresenceBatcher } from '../../../functions/service/presence-batcher.js';
import { PresenceReader } from '../../../functions/service/presence-reader.js';

/** Helpers shared by the HTTP-edge tests: an app over a memory store, and a store that fails on demand. */

export const PROTOBUF = 'application/x-protobuf';

/** Where the test clock starts: 2026-01-01T00:00:00Z. */
export const T0 = Date.UTC(2026, 0, 1);

export const LIVENESS: LivenessPolicy = {
  presenceWindowMs: 60_000,
  expectedPollIntervalMs: 30_000,
  missedPollsBeforeStale: 3,
};

export type StoreOperation = 'get' | 'put' | 'writeSections' | 'copySections' | 'getSection' | 'list' | 'ping';

/**
 * A MemoryAgentStore whose operations can be made to throw. `failNext(op, error, times)`
 * fails the next `times` calls of `op` (Infinity: every call); `calls` counts every call.
 */
export class FaultyAgentStore extends MemoryAgentStore {
  readonly calls: Record<StoreOperation, number> = { get: 0, put: 0, writeSections: 0, copySections: 0, getSection: 0, list: 0, ping: 0 };
  private readonly faults = new Map<StoreOperation, { error: () => Error; remaining: number }>();

  failNext(operation: StoreOperation, error: Error | (() => Error), times = Infinity): this {
    this.faults.set(operation, { error: typeof error === 'function' ? error : () => error, remaining: times });
    return this;
  }

  heal(): void {
    this.faults.clear();
  }

  private enter(operation: StoreOperation): void {
    this.calls[operation] += 1;
    const fault = this.faults.get(operation);
    if (fault && fault.remaining > 0) {
      fault.remaining -= 1;
      throw fault.error();
    }
  }

  override async get(instanceUid: string): Promise<AgentRecord | undefined> {
    this.enter('get');
    return super.get(instanceUid);
  }

  override async put(write: RecordWrite): Promise<void> {
    this.enter('put');
    return super.put(write);
  }

  override async writeSections(puts: readonly SectionWrite[], deletes?: ReadonlyArray<SectionRef & { instanceUid: string }>): Promise<void> {
    this.enter('writeSections');
    return super.writeSections(puts, deletes);
  }

  override async list(query: AgentListQuery): Promise<AgentPage> {
    this.enter('list');
    return super.list(query);
  }

  override async ping(): Promise<void> {
    this.enter('ping');
    return super.ping();
  }
}

export interface TestAppOptions {
  agents?: MemoryAgentStore;
  limits?: Partial<HttpLimits>;
  core?: Partial<CoreOptions>;
  now?: () => number;
  maxWriteAttempts?: number;
  telemetry?: Telemetry;
}

export interface TestApp {
  app: Hono;
  agents: MemoryAgentStore;
  presence: PresenceBatcher;
}

const PRESENCE = { windowMs: 60_000, maxHoldMs: 300_000, lookbackMs: 30 * 60_000, cacheMs: 0, retentionSeconds: 3600, maxEntriesPerItem: 1000, maxBufferedEntries: 10_000 };

/** The full app (agent route and fleet API) over a memory store, with a fixed clock unless told otherwise. */
export function buildApp(options: TestAppOptions = {}): TestApp {
  const agents = options.agents ?? new MemoryAgentStore();
  const now = options.now ?? (() => T0);
  const presenceStore = new MemoryPresenceStore();
  const presence = new PresenceBatcher({ store: presenceStore, now, ...PRESENCE });
  const reader = new PresenceReader({ store: presenceStore, now, ...PRESENCE });
  const polls = new PollService({
    agents,
    now,
    newInstanceUid: () => uuidv7(),
    options: { ...DEFAULT_CORE_OPTIONS, ...options.core },
    presence,
    ...(options.maxWriteAttempts !== undefined ? { maxWriteAttempts: options.maxWriteAttempts } : {}),
  });
  // One process serves both here: the fleet API sees the batch this process has not written yet.
  const queries = new AgentQueries(agents, now, LIVENESS, undefined, {
    view: async () => {
      await presence.flush();
      return reader.view();
    },
  });
  const app = createApp({
    agents,
    polls,
    routes: [fleetApiRoutes({ queries })],
    limits: { ...DEFAULT_HTTP_LIMITS, ...options.limits },
    telemetry: options.telemetry ?? NO_TELEMETRY,
  });
  return { app, agents, presence };
}

export function encode(message: AgentToServer): Uint8Array<ArrayBuffer> {
  return toBinary(AgentToServerSchema, message) as Uint8Array<ArrayBuffer>;
}

/** POSTs bytes to /v1/opamp; `headers` are added to (and may replace) Content-Type: application/x-protobuf. */
export function postBytes(app: Hono, body: RequestInit['body'], headers: Record<string, string> = {}, extra: RequestInit = {}): Promise<Response> {
  return Promise.resolve(app.request('/v1/opamp', { method: 'POST', headers: { 'content-type': PROTOBUF, ...headers }, body, ...extra }));
}

export function postMessage(app: Hono, message: AgentToServer, headers: Record<string, string> = {}): Promise<Response> {
  return postBytes(app, encode(message), headers);
}

/** Decodes a reply body as ServerToAgent, gunzipping it first when the response says so. */
export async function readReply(response: Response): Promise<ServerToAgent> {
  let bytes: Uint8Array = new Uint8Array(await response.arrayBuffer());
  if (response.headers.get('content-encoding') === 'gzip') bytes = new Uint8Array(gunzipSync(bytes));
  return fromBinary(ServerToAgentSchema, bytes);
}

export function uidText(uid: Uint8Array): string {
  return instanceUidToText(uid);
}

/** Every agent record in the store, redirects included (none expected in these tests). */
export async function storedRecords(agents: MemoryAgentStore): Promise<AgentRecord[]> {
  return (await agents.list({ limit: 10_000 })).records;
}
