import { Validations } from 'aws-cdk-lib';
import type { App } from 'aws-cdk-lib';
import type { NagPack } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { nagPacks } from '../../cdk/lib/nag.js';
import type { OpampStackProps } from '../../cdk/lib/opamp-stack.js';
import { synthStack } from './cdk-app.js';

// Generous: the first synthesis and the first rule pass in a worker load most of aws-cdk-lib.
const SYNTH_TIMEOUT = 60_000;

const VARIANTS: [string, OpampStackProps][] = [
  ['default', {}],
  ['destroyOnRemoval', { destroyOnRemoval: true }],
  ['tracing on, nothing reserved', { tracing: true, opampReservedConcurrency: false }],
];

interface Finding {
  rule: string;
  path: string;
}

function findings(app: App, packs: NagPack[]): Finding[] {
  return packs.flatMap((pack) => pack.validateScope(app).violations.flatMap((v) => v.violatingResources.map((r) => ({ rule: `${v.severity} ${v.ruleName}`, path: r.constructPath ?? '?' }))));
}

/** Findings as if nothing were acknowledged (the pack's acknowledgement lookup is switched off). */
function rawFindings(app: App): Finding[] {
  const packs = nagPacks(app);
  for (const pack of packs) Object.defineProperty(pack, 'isAcknowledged', { value: () => false });
  return findings(app, packs);
}

/** Every acknowledgement in the tree: rule id and the construct it was made on. */
function acknowledgements(root: IConstruct): { id: string; path: string }[] {
  return root.node
    .findAll()
    .flatMap((construct) =>
      construct.node.metadata
        .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((entry) => Object.keys(entry.data as Record<string, string>).map((id) => ({ id: id.replace(/^\w+::/, ''), path: construct.node.path }))),
    );
}

describe.each(VARIANTS)('cdk-nag (AwsSolutions and Serverless packs) on the %s stack', (_name, props) => {
  let synthesized: ReturnType<typeof synthStack>;
  beforeAll(() => {
    synthesized = synthStack(props);
  }, SYNTH_TIMEOUT);

  it(
    'reports no unacknowledged finding, error or warning',
    () => {
      const { app } = synthesized;

      expect(findings(app, nagPacks(app))).toEqual([]);
    },
    SYNTH_TIMEOUT,
  );

  it(
    'acknowledges only real findings, each on a construct inside the stack',
    () => {
      const { app, stack } = synthesized;
      const raw = rawFindings(app);

      const acks = acknowledgements(app);
      expect(acks.length).toBeGreaterThan(0);
      for (const ack of acks) {
        // Never on the app or the stack: that would silence the rule everywhere.
        expect(ack.path.startsWith(`${stack.node.path}/`)).toBe(true);
        const answered = raw.filter((f) => f.rule.endsWith(` ${ack.id}`) && f.path.startsWith(`${ack.path}/`));
        expect(answered, `${ack.id} on ${ack.path} answers no finding`).not.toEqual([]);
      }
    },
    SYNTH_TIMEOUT,
  );
});
