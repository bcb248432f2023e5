import type { Context } from 'hono';
import { ProtocolError, RejectedRequestError } from '../core/errors.js';
import { DeadlineExceededError, StoreUnavailableError } from '../ports/errors.js';
import type { Telemetry } from '../observability/telemetry.js';
import { encodeServerToAgent, errorReply, ServerErrorResponseType } from './codec.js';
import { HttpError } from './errors.js';
import { protobufResponse } from './protobuf-response.js';

export interface ErrorResponseOptions {
  retryAfterSeconds: number;
  gzipMinBytes: number;
  telemetry: Telemetry;
}

/**
 * The single place where failures become HTTP responses. Retryable storage
 * failures become 503 with Retry-After (agents retry those with the same
 * message; on most other statuses they drop it), protocol errors 400, and a
 * well-formed request the server refuses a BadRequest error response.
 */
export function errorResponse(c: Context, error: unknown, options: ErrorResponseOptions, instanceUid?: Uint8Array): Response {
  const { telemetry } = options;
  const opamp = c.req.path === '/v1/opamp';

  if (error instanceof HttpError) {
    telemetry.count(`Rejected.${error.code}`);
    return jsonOrText(c, error.status, error.code, error.message, error.headers, opamp);
  }
  if (error instanceof ProtocolError) {
    telemetry.count(`Rejected.${error.reason}`);
    const uid = error.instanceUid ?? instanceUid;
    if (opamp && uid) {
      const reply = errorReply(uid, ServerErrorResponseType.ServerErrorResponseType_BadRequest, error.message);
      return protobufResponse(c, encodeServerToAgent(reply), options, 400);
    }
    return jsonOrText(c, 400, error.reason, error.message, {}, opamp);
  }
  if (error instanceof StoreUnavailableError || error instanceof DeadlineExceededError) {
    telemetry.count('Rejected.store-unavailable');
    telemetry.logger.warn('store unavailable', { error: error.message, cause: causeName(error) });
    const headers = { 'retry-after': String(options.retryAfterSeconds) };
    if (opamp && instanceUid) {
      const reply = errorReply(instanceUid, ServerErrorResponseType.ServerErrorResponseType_Unavailable, 'the server is temporarily unable to store state; retry later', options.retryAfterSeconds);
      return protobufResponse(c, encodeServerToAgent(reply), options, 503, headers);
    }
    return jsonOrText(c, 503, 'unavailable', 'the server is temporarily unable to reach its store; retry later', headers, opamp);
  }
  if (error instanceof RejectedRequestError) {
    telemetry.count(`Rejected.${error.code}`);
    // A well-formed message the server refuses (a CSR it will not sign): a
    // 200 whose ServerErrorResponse the agent reads (clients drop other statuses unread).
    if (opamp && instanceUid) {
      const reply = errorReply(instanceUid, ServerErrorResponseType.ServerErrorResponseType_BadRequest, error.message);
      return protobufResponse(c, encodeServerToAgent(reply), options, 200);
    }
    const status = error.kind === 'not-found' ? 404 : error.kind === 'conflict' ? 409 : 400;
    return jsonOrText(c, status, error.code, error.message, {}, opamp);
  }
  telemetry.count('Errors');
  telemetry.logger.error('unexpected error', error as Error);
  return jsonOrText(c, 500, 'internal', 'internal error', {}, opamp);
}

function jsonOrText(c: Context, status: number, code: string, message: string, headers: Record<string, string>, text: boolean): Response {
  if (text) {
    return new Response(`${message}\n`, { status, headers: { 'content-type': 'text/plain; charset=utf-8', ...headers } });
  }
  return c.json({ error: { code, message } }, status as 400, headers);
}

function causeName(error: Error): string | undefined {
  if (error instanceof DeadlineExceededError) return 'deadline';
  return error.cause instanceof Error ? error.cause.name : undefined;
}
