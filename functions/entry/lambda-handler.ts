import type { Context as LambdaContext } from 'aws-lambda';
import type { Hono } from 'hono';
import { defaultIsContentTypeBinary, handle } from 'hono/aws-lambda';
import type { LambdaEvent } from 'hono/aws-lambda';
import { isProtobufContentType } from '../http/request-body.js';
import type { Powertools } from '../observability/powertools.js';

/**
 * Adapts the app to Lambda Function URL events. Protobuf bodies travel base64
 * in both directions; protobuf is named binary explicitly so that a change to
 * the adapter's default list cannot turn replies into mangled text.
 */
export function lambdaHandler(app: Hono, powertools: Powertools) {
  const handler = handle(app, {
    isContentTypeBinary: (contentType) => isProtobufContentType(contentType) || defaultIsContentTypeBinary(contentType),
  });
  return async (event: LambdaEvent, context: LambdaContext) => {
    powertools.logger.addContext(context);
    try {
      return await handler(event, context);
    } finally {
      powertools.flushMetricsIfDue();
      powertools.logger.resetKeys();
    }
  };
}
