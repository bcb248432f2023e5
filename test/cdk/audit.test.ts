import { describe, expect, it } from 'vitest';
import { TTL_ATTRIBUTE } from '../../functions/adapters/dynamodb/table-schema.js';
import { FLEET_API_ACCESS, INGEST_ACCESS } from '../../cdk/lib/data-access.js';
import { resourceOf, synthStack } from './cdk-app.js';

const SYNTH_TIMEOUT = 60_000;

describe('the audit log in the stack', () => {
  it(
    'has the table delete entries by TTL on the attribute the audit log writes, and tells the recording functions how long to keep them',
    () => {
      const { stack, template } = synthStack({ auditRetentionDays: 400 });
      const variables = (fn: typeof stack.apiFunction) => (resourceOf(template, fn).Properties!.Environment as { Variables: Record<string, unknown> }).Variables;

      expect(resourceOf(template, stack.table).Properties!.TimeToLiveSpecification).toEqual({ AttributeName: TTL_ATTRIBUTE, Enabled: true });
      expect(variables(stack.apiFunction).OPAMP_AUDIT_RETENTION_DAYS).toBe('400');
      expect(variables(stack.ingestFunction).OPAMP_AUDIT_RETENTION_DAYS).toBe('400');
      // The agent function records no changes.
      expect(variables(stack.opampFunction).OPAMP_AUDIT_RETENTION_DAYS).toBeUndefined();
    },
    SYNTH_TIMEOUT,
  );

  it('lets the fleet API write and query entries, and the ingest write them', () => {
    expect(FLEET_API_ACCESS.table).toEqual(expect.arrayContaining(['PutItem', 'Query']));
    expect(INGEST_ACCESS.table).toContain('PutItem');
  });
});
