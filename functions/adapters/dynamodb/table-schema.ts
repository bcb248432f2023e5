/**
 * The single table's key layout, shared by the adapters, the local backend
 * (which creates the table) and the CDK stack.
 *
 *   pk                      sk                  item
 *   agent#<instance uid>    state               the per-poll agent record
 *   agent#<instance uid>    section#<kind>#<id>  one status section (or a pointer to S3); see SectionRef
 *   agent#<instance uid>    inbox#<index>       one custom message the agent sent (the last few are kept)
 *   fleet                   meta                the control item: generation counters of the fleet
 *                                               metadata and of the agent tokens
 *   fleet                   config#<name>#<file> one configuration file (hash, size, type)
 *   fleet                   assignment#<name>   one assignment (and its last error)
 *   fleet                   package#<name>#<version>  one package version (hash, size, signature)
 *   fleet                   settings#<name>     one connection settings document: its last valid
 *                                               content as one JSON string (validated at ingest),
 *                                               and its last error
 *   fleet                   certificate#<name>  one certificate folder (each file's key, hash and
 *                                               version; fingerprint, subject, expiry or error)
 *   auth                    token#<name>        one agent token (its SHA-256; the token itself
 *                                               only for a deliverable token)
 *   bucket                  rejected-keys       the latest bucket keys the ingest rejected, and why
 *   confighist#<name>       v#<sequence>        one recorded version of a configuration (hash, time,
 *                                               principal, files); sequence numbers order them
 *   confighist#<name>       h#<hash>            the same version found by its config hash
 *   presence#<window>       <instance>#<seq>    one batch of agents a function instance answered
 *                                               (window: its start in unix seconds; packed keys and
 *                                               times, see core/presence.ts; kept briefly by TTL)
 *   audit#<UTC day>         <ISO time>#<random> one audit entry (kept OPAMP_AUDIT_RETENTION_DAYS by TTL)
 */
export const TABLE_KEY = { partition: 'pk', sort: 'sk' } as const;

/** Unix seconds; DynamoDB TTL deletes expired items in the background (garbage collection only). */
export const TTL_ATTRIBUTE = 'expiresAt';

export const agentKey = (instanceUid: string) => `agent#${instanceUid}`;
export const AGENT_STATE_SORT_KEY = 'state';
export const sectionSortKey = (kind: string, id: string) => `section#${kind}#${id}`;

export const FLEET_PARTITION = 'fleet';
export const FLEET_META_SORT_KEY = 'meta';
export const configFileSortKey = (configName: string, fileName: string) => `config#${configName}#${fileName}`;
export const assignmentSortKey = (name: string) => `assignment#${name}`;
export const packageVersionSortKey = (name: string, version: string) => `package#${name}#${version}`;
export const settingsSortKey = (name: string) => `settings#${name}`;
export const certificateSortKey = (name: string) => `certificate#${name}`;
export const rolloutSortKey = (assignment: string, aspect: string) => `rollout#${assignment}#${aspect}`;

/**
 * Each configuration's history in a partition of its own: never in the fleet
 * partition, which every function instance reads whole.
 */
export const configHistoryPartition = (configName: string) => `confighist#${configName}`;
export const CONFIG_VERSION_PREFIX = 'v#';
export const configVersionSortKey = (sequence: number) => `${CONFIG_VERSION_PREFIX}${String(sequence).padStart(12, '0')}`;
export const configHashSortKey = (hash: string) => `h#${hash}`;

export const presencePartition = (windowStartMs: number) => `presence#${Math.floor(windowStartMs / 1000)}`;
export const presenceSortKey = (instanceId: string, sequence: number) => `${instanceId}#${String(sequence).padStart(10, '0')}`;

export const AUTH_PARTITION = 'auth';
/** Function instances revalidate their caches by reading this one item. */
export const CONTROL_KEY = { pk: { S: FLEET_PARTITION }, sk: { S: FLEET_META_SORT_KEY } };
export const FLEET_GENERATION_ATTRIBUTE = 'generation';
export const AUTH_GENERATION_ATTRIBUTE = 'authGeneration';
export const tokenSortKey = (name: string) => `token#${name}`;
export const inboxSortKey = (index: number) => `inbox#${String(index).padStart(12, '0')}`;

/**
 * Bucket keys the ingest rejected, as one item (a bounded JSON list): apart
 * from the fleet partition, so that cache revalidations never read it.
 */
export const REJECTED_KEYS_KEY = { pk: { S: 'bucket' }, sk: { S: 'rejected-keys' } };

/** Audit entries, one partition per UTC day (`2026-12-02`): a time range reads its days, newest first. */
export const auditPartition = (day: string) => `audit#${day}`;
