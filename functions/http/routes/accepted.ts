/** The body of a 202: the bucket took the change; the ingest records it shortly. */
export const ACCEPTED = { status: 'accepted' } as const;
