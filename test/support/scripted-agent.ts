import { gunzipSync, gzipSync } from 'node:zlib';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { stringify as uuidText } from 'uuid';
import { AgentToServerSchema, ServerToAgentFlags, ServerToAgentSchema } from '../../functions/gen/opamp/v1/opamp_pb.js';
import type { AgentToServer, ServerToAgent } from '../../functions/gen/opamp/v1/opamp_pb.js';
import { fullReport, newUidBytes } from './messages.js';

export interface ExchangeResult {
  status: number;
  headers: Headers;
  /** The decoded reply, when the body was a ServerToAgent. */
  reply?: ServerToAgent;
  rawBody: Uint8Array;
  requestBytes: number;
}

export interface ScriptedAgentOptions {
  /** Gzip request bodies, as an opamp-go client with compression enabled does. */
  gzipRequests?: boolean;
  /** Send Accept-Encoding: gzip, as Go's HTTP client does implicitly. */
  acceptGzip?: boolean;
  headers?: Record<string, string>;
  uid?: Uint8Array;
  /** Called before every request, e.g. to move a test clock by one poll interval. */
  beforeSend?: () => void;
  /** The full report this agent sends first and whenever asked for its full state. */
  report?: (uid: Uint8Array, seq: bigint) => AgentToServer;
}

/**
 * An OpAMP plain-HTTP client driven step by step by a test: it numbers its
 * messages, sends the instance uid header, and can answer ReportFullState and
 * new uids the way the Go client does.
 */
export class ScriptedAgent {
  uid: Uint8Array;
  nextSeq = 0n;
  private readonly report: (uid: Uint8Array, seq: bigint) => AgentToServer;

  constructor(
    readonly endpoint: string,
    private options: ScriptedAgentOptions = {},
  ) {
    this.uid = options.uid ?? newUidBytes();
    this.report = options.report ?? ((uid, seq) => fullReport(uid, seq));
  }

  /** Changes the headers every later request carries (e.g. a rotated Authorization header). */
  setHeaders(headers: Record<string, string>): void {
    this.options.headers = headers;
  }

  get uidText(): string {
    return uuidText(this.uid);
  }

  /** Sends one message numbered with the next sequence number. */
  async send(init: Omit<Exclude<MessageInitShape<typeof AgentToServerSchema>, AgentToServer>, 'instanceUid' | 'sequenceNum'> = {}): Promise<ExchangeResult> {
    const message = create(AgentToServerSchema, { ...init, instanceUid: this.uid, sequenceNum: this.nextSeq++ });
    const result = await this.post(toBinary(AgentToServerSchema, message));
    this.adoptNewUid(result.reply);
    return result;
  }

  async sendFullReport(): Promise<ExchangeResult> {
    const message = this.report(this.uid, this.nextSeq++);
    const result = await this.post(toBinary(AgentToServerSchema, message));
    this.adoptNewUid(result.reply);
    return result;
  }

  async heartbeat(capabilities?: bigint): Promise<ExchangeResult> {
    const caps = capabilities ?? this.report(this.uid, 0n).capabilities;
    return this.send({ capabilities: caps });
  }

  /** Answers a ReportFullState flag with a full report, as the Go client does at once. */
  async honourFlags(result: ExchangeResult): Promise<ExchangeResult | undefined> {
    const flags = result.reply?.flags ?? 0n;
    if ((flags & BigInt(ServerToAgentFlags.ServerToAgentFlags_ReportFullState)) !== 0n) return this.sendFullReport();
    return undefined;
  }

  async post(body: Uint8Array, extraHeaders: Record<string, string> = {}): Promise<ExchangeResult> {
    this.options.beforeSend?.();
    const headers: Record<string, string> = {
      'content-type': 'application/x-protobuf',
      'opamp-instance-uid': this.uidText,
      // fetch would otherwise offer gzip on every request.
      'accept-encoding': this.options.acceptGzip ? 'gzip' : 'identity',
      ...this.options.headers,
      ...extraHeaders,
    };
    let payload = body;
    if (this.options.gzipRequests && !('content-encoding' in extraHeaders)) {
      payload = new Uint8Array(gzipSync(body));
      headers['content-encoding'] = 'gzip';
    }
    const response = await fetch(this.endpoint, { method: 'POST', headers, body: payload });
    let rawBody = new Uint8Array(await response.arrayBuffer());
    // fetch undoes Content-Encoding itself; the raw bytes are what arrived decoded.
    if (response.headers.get('content-encoding') === 'gzip' && rawBody[0] === 0x1f && rawBody[1] === 0x8b) {
      rawBody = new Uint8Array(gunzipSync(rawBody));
    }
    const isProtobuf = response.headers.get('content-type') === 'application/x-protobuf';
    return {
      status: response.status,
      headers: response.headers,
      rawBody,
      requestBytes: payload.byteLength,
      ...(isProtobuf ? { reply: fromBinary(ServerToAgentSchema, rawBody) } : {}),
    };
  }

  private adoptNewUid(reply: ServerToAgent | undefined): void {
    const uid = reply?.agentIdentification?.newInstanceUid;
    if (uid && uid.length === 16) this.uid = uid;
  }
}

export function hasFlag(reply: ServerToAgent | undefined, flag: ServerToAgentFlags): boolean {
  return ((reply?.flags ?? 0n) & BigInt(flag)) !== 0n;
}
