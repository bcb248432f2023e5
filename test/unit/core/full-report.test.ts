import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { AgentCapabilities, PackageStatusesSchema } from '../../../functions/gen/opamp/v1/opamp_pb.js';
import type { AgentToServer } from '../../../functions/gen/opamp/v1/opamp_pb.js';
import { isFullReport } from '../../../functions/core/features/full-state.js';
import { COLLECTOR_CAPS, SDK_CAPS, caps, description, fullReport, heartbeat } from '../../support/messages.js';
import { AGENT_UID, msg } from './fixtures.js';

const PACKAGES_CAPS = COLLECTOR_CAPS | caps('AgentCapabilities_ReportsPackageStatuses');

describe('isFullReport', () => {
  it.each<[string, () => AgentToServer, bigint, boolean]>([
    ['a heartbeat', () => heartbeat(AGENT_UID, 1n), COLLECTOR_CAPS, false],
    ['a heartbeat, capabilities 0', () => heartbeat(AGENT_UID, 1n, 0n), 0n, false],
    ['everything but the description', () => fullReport(AGENT_UID, 1n, { agentDescription: undefined }), COLLECTOR_CAPS, false],
    ['only a description, nothing else promised', () => msg(1n, { agentDescription: description({ a: 'b' }) }), SDK_CAPS, true],
    ['only a description, capabilities 0', () => msg(1n, { agentDescription: description({ a: 'b' }) }), 0n, true],
    ['a Collector report', () => fullReport(AGENT_UID, 1n), COLLECTOR_CAPS, true],
    ['a Collector report without health', () => fullReport(AGENT_UID, 1n, { health: undefined }), COLLECTOR_CAPS, false],
    ['a Collector report without effective config', () => fullReport(AGENT_UID, 1n, { effectiveConfig: undefined }), COLLECTOR_CAPS, false],
    ['a Collector report without remote config status', () => fullReport(AGENT_UID, 1n, { remoteConfigStatus: undefined }), COLLECTOR_CAPS, false],
    [
      'a report without health from an agent that does not report health',
      () => fullReport(AGENT_UID, 1n, { health: undefined }),
      COLLECTOR_CAPS & ~BigInt(AgentCapabilities.AgentCapabilities_ReportsHealth),
      true,
    ],
    ['a report without package statuses from an agent that reports them', () => fullReport(AGENT_UID, 1n), PACKAGES_CAPS, false],
    ['a report with package statuses from an agent that reports them', () => fullReport(AGENT_UID, 1n, { packageStatuses: create(PackageStatusesSchema, {}) }), PACKAGES_CAPS, true],
  ])('%s → %s', (_name, build, capabilities, expected) => {
    // Prepare
    const message = build();

    // Act
    const full = isFullReport(message, capabilities);

    // Assess
    expect(full).toBe(expected);
  });
});
