import { describe, expect, it } from 'vitest';
import { MemoryAgentStore } from '../../../functions/adapters/memory/agent-store.js';
import { MemoryFleetStore } from '../../../functions/adapters/memory/fleet-store.js';
import { NO_TELEMETRY } from '../../../functions/observability/telemetry.js';
import { BucketIngest } from '../../../functions/service/bucket-ingest.js';
import { FleetAdmin } from '../../../functions/service/fleet-admin.js';
import { POLICY } from '../core/fleet-fixtures.js';
import { MemoryObjectStore } from './memory-object-store.js';

const T0 = Date.UTC(2026, 0, 1);
const bytes = (text: string) => new TextEncoder().encode(text);

/** A configuration recorded by the ingest, and the admin that reads it. */
async function recorded(files: Record<string, Uint8Array>) {
  const objects = new MemoryObjectStore();
  const fleet = new MemoryFleetStore();
  const admin = new FleetAdmin({ objects, fleet, agents: new MemoryAgentStore(), now: () => T0, remoteConfig: POLICY });
  const ingest = new BucketIngest({ objects, fleet, now: () => T0, telemetry: NO_TELEMETRY, maxConfigFileBytes: 1 << 20 });
  await admin.putConfig(
    'web',
    Object.entries(files).map(([name, body]) => ({ name, body })),
  );
  await ingest.handleEvent(objects.eventsSince(0));
  return { objects, admin };
}

describe('FleetAdmin.getConfig with content', () => {
  it('gives the text of the recorded version of each file', async () => {
    // Prepare
    const { admin } = await recorded({ 'collector.yaml': bytes('receivers: {}\n'), 'ünï.txt': bytes('ü\n') });

    // Act
    const config = await admin.getConfig('web', { content: true });

    // Assess
    expect(config.files.map((f) => [f.name, f.content, f.contentOmitted])).toEqual([
      ['collector.yaml', 'receivers: {}\n', undefined],
      ['ünï.txt', 'ü\n', undefined],
    ]);
  });

  it('calls a file with a NUL or bytes that are not UTF-8 binary', async () => {
    // Prepare
    const { admin } = await recorded({ 'nul.txt': bytes('a\0b'), 'latin1.txt': new Uint8Array([0x63, 0x61, 0x66, 0xe9]) });

    // Act
    const config = await admin.getConfig('web', { content: true });

    // Assess
    expect(config.files.map((f) => [f.name, f.content, f.contentOmitted])).toEqual([
      ['latin1.txt', null, 'binary'],
      ['nul.txt', null, 'binary'],
    ]);
  });

  it('shows no text for a file that changed in the bucket since it was recorded', async () => {
    // Prepare
    const { objects, admin } = await recorded({ 'collector.yaml': bytes('receivers: {}\n') });
    await objects.put('configs/web/collector.yaml', 'not yet recorded');

    // Act
    const config = await admin.getConfig('web', { content: true });

    // Assess
    expect(config.files[0]).toMatchObject({ name: 'collector.yaml', content: null, contentOmitted: 'changed' });
  });

  it('leaves content out unless asked', async () => {
    // Prepare
    const { admin } = await recorded({ 'collector.yaml': bytes('receivers: {}\n') });

    // Act
    const config = await admin.getConfig('web');

    // Assess
    expect(config.files[0]).not.toHaveProperty('content');
  });
});
