import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../cli/opampctl.js';
import type { AuditEntryView } from '../../functions/http/routes/audit-api.js';
import { startTestBackend } from '../support/local-backend.js';
import type { TestBackend } from '../support/local-backend.js';
import { runOpampctl } from '../support/opampctl.js';

describe('the audit log on the local backend', () => {
  let backend: TestBackend;

  beforeAll(async () => {
    backend = await startTestBackend();
  });
  afterAll(async () => {
    await backend.close();
  });

  async function ctl(...args: string[]): Promise<string> {
    return runOpampctl(backend.url, args);
  }
  const put = (name: string, body: unknown) => fetch(`${backend.url}/api/v1/assignments/${name}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('records an assignment put through the API as made by local, and the bucket change it made', async () => {
    const response = await put('checkout', { config: 'web', selector: 'service.name=checkout' });
    expect(response.status).toBe(202);
    await backend.ingested();

    const { entries } = JSON.parse(await ctl('audit', '--target', 'assignments/checkout', '--json')) as { entries: AuditEntryView[] };

    // Both at the same moment of the backend's clock, which stands still: in either order.
    expect(entries).toHaveLength(2);
    expect(entries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ principal: 'local', source: 'bucket', action: 'assignment.put', target: 'assignments/checkout.json', result: 'ok' }),
        expect.objectContaining({ principal: 'local', source: 'api', action: 'assignment.put', target: 'assignments/checkout', result: 'ok', status: 202 }),
      ]),
    );
  });

  it('records a refused put as refused, with the reason, and writes nothing to the bucket', async () => {
    backend.clock.advance(60_000);
    const response = await put('broken', { config: 'web', selector: 'not a selector' });
    expect(response.status).toBe(400);
    await backend.ingested();

    const { entries } = JSON.parse(await ctl('audit', '--target', 'assignments/broken', '--json')) as { entries: AuditEntryView[] };

    expect(entries).toEqual([expect.objectContaining({ principal: 'local', source: 'api', action: 'assignment.put', result: 'refused', status: 400 })]);
    expect(await ctl('assignments', '--json')).not.toMatch(/broken/);
    expect(entries[0]!.message).toBe(((await response.json()) as { error: { message: string } }).error.message);
  });

  it('prints a table for people, filtered by source and action', async () => {
    const text = await ctl('audit', '--source', 'api', '--action', 'assignment.', '--since', '1h', '--limit', '1');

    const [header, row, more] = text.split('\n');
    expect(header).toMatch(/^AT\s+PRINCIPAL\s+SOURCE\s+ACTION\s+TARGET\s+RESULT\s+MESSAGE$/);
    expect(row).toMatch(/local\s+api\s+assignment\.put\s+assignments\/broken\s+refused \(400\)/);
    expect(more).toBeUndefined();
  });

  it.each([
    [['--since', 'yesterday'], /^--since takes an ISO time/],
    [['--source', 'console'], /^--source takes api, bucket, rollout$/],
    [['--limit', '0'], /^--limit takes a whole number of at least 1$/],
  ])('refuses %j before sending anything', async (args, message) => {
    const error = await ctl('audit', ...args).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(message);
  });
});
