/**
 * The single table's key layout, shared by the adapters, the local backend
 * (which creates the table) and the CDK stack.
 *
 *   pk                      sk                  item
 *   agent#<instance uid>    state               the per-poll agent record
 *   agent#<instance uid>    section#<kind>      one status section (or a pointer to S3)
 */
export const TABLE_KEY = { partition: 'pk', sort: 'sk' } as const;

/** Unix seconds; DynamoDB TTL deletes expired items in the background (garbage collection only). */
export const TTL_ATTRIBUTE = 'expiresAt';

export const agentKey = (instanceUid: string) => `agent#${instanceUid}`;
export const AGENT_STATE_SORT_KEY = 'state';
export const sectionSortKey = (kind: string) => `section#${kind}`;
