import { Stack } from 'aws-cdk-lib';
import type { CfnResource } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import {
  AGENT_STATE_PREFIX,
  ASSIGNMENTS_PREFIX,
  CERTIFICATES_PREFIX,
  CONFIG_HISTORY_PREFIX,
  CONFIGS_PREFIX,
  MANAGED_PREFIXES,
  PACKAGES_PREFIX,
  SETTINGS_PREFIX,
} from '../../functions/core/bucket-layout.js';

/**
 * Top-level prefixes. In the operator's bucket: configs/, assignments/,
 * settings/ and certificates/ are what operators upload
 * (functions/core/bucket-layout.ts), packages/ holds package files that the
 * agent endpoint presigns. In the state bucket, which only the functions write:
 * agent-state/ holds status sections too large for an item (written by the
 * agent store, by content hash); config-history/ holds the files of every
 * recorded configuration version (written by the ingest, by content hash).
 */
const PREFIX = {
  configs: CONFIGS_PREFIX,
  assignments: ASSIGNMENTS_PREFIX,
  packages: PACKAGES_PREFIX,
  settings: SETTINGS_PREFIX,
  certificates: CERTIFICATES_PREFIX,
  agentState: AGENT_STATE_PREFIX,
  configHistory: CONFIG_HISTORY_PREFIX,
} as const;

/** What operators upload; the ingest function hears about every change under these. */
export const FLEET_PREFIXES = MANAGED_PREFIXES;

/**
 * Secrets the agent endpoint may read: certificate material and the CSR
 * signing CA named `secretsmanager:opamp/...` (a name prefix keeps the grant
 * from reaching the account's other secrets).
 */
export const SECRET_NAME_PREFIX = 'opamp/';

export type TableAction = 'GetItem' | 'PutItem' | 'UpdateItem' | 'DeleteItem' | 'Query' | 'Scan' | 'BatchWriteItem' | 'DescribeTable';
export type ObjectAction = 'GetObject' | 'PutObject' | 'DeleteObject';

export interface ObjectAccess {
  /** Statement id: says what the statement is for. */
  readonly sid: string;
  /** The operator's bucket (default) or the server's own state bucket. */
  readonly bucket?: 'fleet' | 'state';
  readonly actions: readonly ObjectAction[];
  /** The actions apply to every object under these prefixes. */
  readonly prefixes: readonly string[];
}

/** Everything one function may do to the table and the bucket. */
export interface DataAccess {
  /** DynamoDB actions on the table (it has no indexes). */
  readonly table: readonly TableAction[];
  readonly objects: readonly ObjectAccess[];
  /** ListBucket, allowed only for listings under these prefixes. */
  readonly list?: readonly string[];
  /** ListBucket on the state bucket, only under these prefixes. */
  readonly stateList?: readonly string[];
}

/** The public agent endpoint: one read and at most one write per poll, config bodies, large status sections. */
export const OPAMP_ACCESS: DataAccess = {
  table: ['GetItem', 'PutItem', 'BatchWriteItem', 'Query', 'DescribeTable'],
  objects: [
    // Package download URLs are presigned with this function's credentials;
    // certificates are offered in connection settings (and may hold the CSR CA).
    { sid: 'ReadConfigsPackagesCertificates', actions: ['GetObject'], prefixes: [PREFIX.configs, PREFIX.packages, PREFIX.certificates] },
    { sid: 'ReadWriteAgentState', bucket: 'state', actions: ['GetObject', 'PutObject'], prefixes: [PREFIX.agentState] },
    // Earlier configuration versions are served from their history copies.
    { sid: 'ReadConfigHistory', bucket: 'state', actions: ['GetObject'], prefixes: [PREFIX.configHistory] },
  ],
};

/** The fleet API: reads agents, manages configs, assignments, packages, settings and certificates. */
export const FLEET_API_ACCESS: DataAccess = {
  table: ['GetItem', 'PutItem', 'DeleteItem', 'UpdateItem', 'Query', 'Scan', 'BatchWriteItem', 'DescribeTable'],
  objects: [
    { sid: 'ManageFleetObjects', actions: ['GetObject', 'PutObject', 'DeleteObject'], prefixes: FLEET_PREFIXES },
    { sid: 'ReadAgentState', bucket: 'state', actions: ['GetObject'], prefixes: [PREFIX.agentState] },
    // Version contents and diffs, and restores (which write them back to configs/).
    { sid: 'ReadConfigHistory', bucket: 'state', actions: ['GetObject'], prefixes: [PREFIX.configHistory] },
  ],
  list: FLEET_PREFIXES,
};

/**
 * What the rollout engine does (functions/service/rollouts/rollout-engine.ts): reads
 * the fleet generation and a configuration's kept versions (GetItem), the fleet partition
 * and the presence batches (Query), every agent record (Scan), writes rollout items
 * (conditional PutItem) and bumps the fleet generation (UpdateItem).
 * It reads no object: rollouts name configurations by hash, and the agent endpoint
 * serves their bodies.
 */
const ROLLOUT_ENGINE_TABLE_ACTIONS = ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query', 'Scan'] as const satisfies readonly TableAction[];

/**
 * Bucket notifications: reads what changed and records it in the table; copies
 * the files of each new configuration version to config-history/ (listing
 * first: a copy that exists is not written again, and without ListBucket a
 * missing key reads as access denied); then starts the rollouts the change calls for.
 */
export const INGEST_ACCESS: DataAccess = {
  table: ROLLOUT_ENGINE_TABLE_ACTIONS,
  objects: [
    { sid: 'ReadFleetObjects', actions: ['GetObject'], prefixes: FLEET_PREFIXES },
    { sid: 'WriteConfigHistory', bucket: 'state', actions: ['PutObject'], prefixes: [PREFIX.configHistory] },
  ],
  list: FLEET_PREFIXES,
  stateList: [PREFIX.configHistory],
};

/** The scheduled rollout evaluation: the rollout engine and nothing else. */
export const ROLLOUTS_ACCESS: DataAccess = {
  table: ROLLOUT_ENGINE_TABLE_ACTIONS,
  objects: [],
};

export interface DataStores {
  readonly table: ITable;
  /** The operator's bucket. */
  readonly bucket: IBucket;
  /** The server's own objects; no operator workflow writes or deletes there. */
  readonly stateBucket: IBucket;
}

/**
 * Adds one statement per part of `access` to the grantee's policy: the table
 * actions on the table, each object grant on its prefixes, and ListBucket with an
 * `s3:prefix` condition. Nothing else: no index, stream or `*` resource.
 */
export function grantDataAccess(grantee: IGrantable, stores: DataStores, access: DataAccess): PolicyStatement[] {
  const statements = [
    new PolicyStatement({
      sid: 'Table',
      actions: access.table.map((action) => `dynamodb:${action}`),
      resources: [stores.table.tableArn],
    }),
    ...access.objects.map(
      (grant) =>
        new PolicyStatement({
          sid: grant.sid,
          actions: grant.actions.map((action) => `s3:${action}`),
          resources: grant.prefixes.map((prefix) => (grant.bucket === 'state' ? stores.stateBucket : stores.bucket).arnForObjects(`${prefix}*`)),
        }),
    ),
    ...(access.list
      ? [
          new PolicyStatement({
            sid: 'ListFleetPrefixes',
            actions: ['s3:ListBucket'],
            resources: [stores.bucket.bucketArn],
            conditions: { StringLike: { 's3:prefix': access.list.map((prefix) => `${prefix}*`) } },
          }),
        ]
      : []),
    ...(access.stateList
      ? [
          new PolicyStatement({
            sid: 'ListStatePrefixes',
            actions: ['s3:ListBucket'],
            resources: [stores.stateBucket.bucketArn],
            conditions: { StringLike: { 's3:prefix': access.stateList.map((prefix) => `${prefix}*`) } },
          }),
        ]
      : []),
  ];
  for (const statement of statements) grantee.grantPrincipal.addToPrincipalPolicy(statement);
  return statements;
}

/**
 * The cdk-nag finding ids (AwsSolutions-IAM5) that the prefix wildcards of
 * `access` raise, e.g. `AwsSolutions-IAM5[Resource::<Bucket83908E77.Arn>/configs/*]`,
 * so they can be acknowledged one by one.
 */
export function prefixWildcardFindings(buckets: { fleet: CfnResource; state: CfnResource }, access: DataAccess): string[] {
  const ids = new Set(
    access.objects.flatMap((grant) => {
      const resource = buckets[grant.bucket ?? 'fleet'];
      const logicalId = Stack.of(resource).resolve(resource.logicalId) as string;
      return grant.prefixes.map((prefix) => `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/${prefix}*]`);
    }),
  );
  return [...ids];
}
