import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { AgentToServerSchema, ComponentHealthSchema, PackageStatusesSchema } from '../../../functions/gen/opamp/v1/opamp_pb.js';
import { redactStringsInPlace, redactUrls } from '../../../functions/core/url-redaction.js';

const PRESIGNED = 'https://opamp-bucket.s3.us-east-1.amazonaws.com/packages/_agent/0.140.0/otelcol.tar.gz?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20260101&X-Amz-Signature=abc123';
const BARE = 'https://opamp-bucket.s3.us-east-1.amazonaws.com/packages/_agent/0.140.0/otelcol.tar.gz';

describe('redactUrls', () => {
  it.each([
    [`Get "${PRESIGNED}": dial tcp: i/o timeout`, `Get "${BARE}": dial tcp: i/o timeout`],
    [`cannot download file from ${PRESIGNED}, HTTP response=404`, `cannot download file from ${BARE}, HTTP response=404`],
    [`fetch ${PRESIGNED}#part failed`, `fetch ${BARE} failed`],
    ['bucket.example.com/key?token=s3cr3t failed', 'bucket.example.com/key failed'],
    ['(see http://h/p?a=1)', '(see http://h/p)'],
    ['two: http://a/x?k=1 and http://b/y?k=2.', 'two: http://a/x and http://b/y.'],
  ])('removes the query string: %s', (text, expected) => {
    expect(redactUrls(text)).toBe(expected);
  });

  it.each(['did you mean configs/default?', 'no URL here, just a question? yes', 'http://host/path without a query', 'rate=50%? maybe'])('leaves text without a URL query alone: %s', (text) => {
    expect(redactUrls(text)).toBe(text);
  });
});

describe('redactStringsInPlace', () => {
  it('redacts every string of a decoded agent message (statuses, health tree) and leaves bytes alone', () => {
    const body = new TextEncoder().encode(`url: ${PRESIGNED}`);
    const message = create(AgentToServerSchema, {
      packageStatuses: create(PackageStatusesSchema, {
        errorMessage: `sync failed: ${PRESIGNED}`,
        packages: { '': { name: '', errorMessage: `Get "${PRESIGNED}": EOF` } },
      }),
      health: create(ComponentHealthSchema, {
        lastError: `exporter ${PRESIGNED}`,
        componentHealthMap: { 'exporter/otlp': create(ComponentHealthSchema, { status: `down: ${PRESIGNED}` }) },
      }),
      remoteConfigStatus: { errorMessage: `include ${PRESIGNED} failed` },
      effectiveConfig: { configMap: { configMap: { '': { body, contentType: 'text/yaml' } } } },
    });

    redactStringsInPlace(message);

    const text = JSON.stringify(message, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v instanceof Uint8Array ? undefined : v));
    expect(text).not.toContain('X-Amz-Signature');
    expect(message.packageStatuses!.packages['']!.errorMessage).toBe(`Get "${BARE}": EOF`);
    expect(message.health!.componentHealthMap['exporter/otlp']!.status).toBe(`down: ${BARE}`);
    expect(message.remoteConfigStatus!.errorMessage).toBe(`include ${BARE} failed`);
    expect(new TextDecoder().decode(message.effectiveConfig!.configMap!.configMap['']!.body)).toBe(`url: ${PRESIGNED}`);
  });

  it('redacts nested JSON (what the fleet API shows)', () => {
    const view = { agents: [{ packages: { '': { error: `HTTP 403 ${PRESIGNED}` } } }], total: 1 };
    expect(redactStringsInPlace(view)).toEqual({ agents: [{ packages: { '': { error: `HTTP 403 ${BARE}` } } }], total: 1 });
  });
});
