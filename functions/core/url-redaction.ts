/**
 * Agents write URLs into the text they report: the Go client puts the whole
 * presigned package URL, signature included, into a failed download's error
 * message. A query string can carry a credential (a signature, a token, an
 * API key), so the server keeps and shows no query string of any URL in
 * agent text: it is removed when a message arrives, before anything is
 * stored, and again when agent data is shown (records written before the
 * rule existed).
 *
 * A URL here is any run of non-space characters with a "/" before a "?":
 * "https://bucket.s3.amazonaws.com/p/x.tgz?X-Amz-Signature=..." and a bare
 * "bucket.s3.amazonaws.com/p/x.tgz?..." alike. A "?" that ends a sentence is
 * left alone, and so is punctuation after the URL ("<url>, HTTP 404"); a
 * fragment after the query goes with it.
 */
const URL_WITH_QUERY = /([^\s"'<>`?]*\/[^\s"'<>`?]*)\?[^\s"'<>`]*[^\s"'<>`,.;:!)\]}]/g;

/** The text with the query string (and fragment) of every URL in it removed. */
export function redactUrls(text: string): string {
  if (!text.includes('?')) return text;
  return text.replace(URL_WITH_QUERY, '$1');
}

/**
 * Redacts every string inside a decoded protobuf message or a JSON value, in
 * place, and returns it. Bytes (configuration bodies, custom message data)
 * and numbers are left as they are.
 */
export function redactStringsInPlace<T>(value: T): T {
  walk(value, 0);
  return value;
}

/** Messages nest (health trees); anything deeper than this is not agent text worth walking. */
const MAX_DEPTH = 64;

function walk(value: unknown, depth: number): void {
  if (depth > MAX_DEPTH || value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item === 'string') value[i] = redactUrls(item);
      else walk(item, depth + 1);
    }
    return;
  }
  if (value instanceof Map) {
    for (const [key, item] of value) {
      if (typeof item === 'string') value.set(key, redactUrls(item));
      else walk(item, depth + 1);
    }
    return;
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const item = record[key];
    if (typeof item === 'string') {
      const redacted = redactUrls(item);
      if (redacted !== item) record[key] = redacted;
    } else {
      walk(item, depth + 1);
    }
  }
}
