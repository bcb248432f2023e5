import type { AssignmentView } from '../service/admin/assignments.js';
import type { ConfigView, RolloutView } from '../service/admin/configs.js';
import type { AgentSummaryView } from '../service/agent-views.js';

/**
 * How the console reaches the fleet API: any fetch-like function. Locally it
 * calls the backend's app in-process; `opampctl console` passes one that signs
 * each request with SigV4 for the IAM-authenticated Function URL.
 */
export type FetchLike = (request: Request) => Promise<Response>;

export interface ApiResult<T> {
  status: number;
  ok: boolean;
  body: T;
  /** The API's error message, when the call failed. */
  error?: string;
}

export class FleetClient {
  constructor(
    private readonly fetchFn: FetchLike,
    /** Base of the fleet API, without `/api/v1`. */
    private readonly baseUrl: string,
  ) {}

  async call<T>(method: 'GET' | 'PUT' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<ApiResult<T>> {
    const init: RequestInit = { method, headers: { accept: 'application/json' } };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { accept: 'application/json', 'content-type': 'application/json' };
    }
    let response: Response;
    try {
      response = await this.fetchFn(new Request(`${this.baseUrl}/api/v1${path}`, init));
    } catch (error) {
      const cause = (error as Error & { cause?: Error }).cause?.message ?? (error as Error).message;
      return { status: 0, ok: false, body: undefined as T, error: `cannot reach the fleet API: ${cause}` };
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (response.ok) return { status: response.status, ok: true, body: json as T };
    const message = (json as { error?: { message?: string } } | undefined)?.error?.message ?? (json as { Message?: string } | undefined)?.Message ?? text.trim();
    return { status: response.status, ok: false, body: json as T, error: `${response.status} ${message || response.statusText}` };
  }

  /** A GET that must succeed for the page to make sense. */
  async get<T>(path: string): Promise<T> {
    const result = await this.call<T>('GET', path);
    if (!result.ok) throw new ApiError(result.status, result.error ?? `${result.status}`);
    return result.body;
  }
}

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The fleet API's shapes: the service layer's own view types (docs/reference/fleet-api.md). */
export type AgentSummary = AgentSummaryView;

export interface AgentPage {
  agents: AgentSummary[];
  nextCursor?: string;
}

export type ConfigSummary = ConfigView;
export type Rollout = RolloutView;
export type Assignment = AssignmentView;
