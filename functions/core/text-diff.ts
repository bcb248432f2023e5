import { sha256 } from './canonical-hash.js';

/** One side of a diff: the file's name (as shown after a/ or b/) and its text. */
export interface DiffSide {
  name: string;
  text: string;
}

export interface DiffOptions {
  /** Unchanged lines shown around each change (default 3). */
  context?: number;
  /** Above this many bytes on either side, only say that the files differ (default 1 MiB). */
  maxBytes?: number;
  /** Above this many inserted and deleted lines, only say that the files differ (default 2000). */
  maxEdits?: number;
}

export const DIFF_DEFAULTS = { context: 3, maxBytes: 1024 * 1024, maxEdits: 2000 } as const;

type Op = { kind: ' ' | '-' | '+'; line: string };

/**
 * A unified diff of two texts (`diff -u` style, with `--- a/<name>` and
 * `+++ b/<name>` headers); an absent side is /dev/null. Empty when the texts
 * are equal. Lines are compared with their line ends, so a missing final
 * newline shows as a change ("\ No newline at end of file"). The work is
 * bounded: texts larger than `maxBytes`, or that differ in more than
 * `maxEdits` lines, give one line saying the files differ, with sizes and
 * SHA-256 hashes.
 */
export function unifiedDiff(before: DiffSide | undefined, after: DiffSide | undefined, options: DiffOptions = {}): string {
  const oldText = before?.text ?? '';
  const newText = after?.text ?? '';
  if (before && after && oldText === newText) return '';
  const oldName = before ? `a/${before.name}` : '/dev/null';
  const newName = after ? `b/${after.name}` : '/dev/null';
  const maxBytes = options.maxBytes ?? DIFF_DEFAULTS.maxBytes;
  const summary = () => `Files ${oldName} and ${newName} differ (${describe(oldText, before)} -> ${describe(newText, after)})\n`;
  if (Buffer.byteLength(oldText) > maxBytes || Buffer.byteLength(newText) > maxBytes) return summary();
  const ops = diffLines(splitLines(oldText), splitLines(newText), options.maxEdits ?? DIFF_DEFAULTS.maxEdits);
  if (!ops) return summary();
  return `--- ${oldName}\n+++ ${newName}\n${hunks(ops, options.context ?? DIFF_DEFAULTS.context)}`;
}

function describe(text: string, side: DiffSide | undefined): string {
  if (!side) return 'absent';
  return `${Buffer.byteLength(text)} bytes, sha256 ${sha256(text).toString('hex').slice(0, 12)}`;
}

/** Lines with their line ends ('\n' kept), so that "x" and "x\n" differ. */
export function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n').map((line) => `${line}\n`);
  const last = lines.length - 1;
  // "a\nb\n" splits into a, b and an empty tail; "a\nb" into a and b (no newline at the end).
  if (lines[last] === '\n') lines.pop();
  else lines[last] = lines[last]!.slice(0, -1);
  return lines;
}

/**
 * The shortest edit script turning `a` into `b` (Myers' O((N+M)D) algorithm),
 * or undefined when it needs more than `maxEdits` insertions and deletions.
 * Keeps only the 2d+1 frontier values of each step: memory O(D^2).
 */
export function diffLines(a: readonly string[], b: readonly string[], maxEdits: number): Op[] | undefined {
  const n = a.length;
  const m = b.length;
  const limit = Math.min(n + m, maxEdits);
  const offset = limit + 1;
  const v = new Int32Array(2 * offset + 1);
  const trace: Int32Array[] = [];
  for (let d = 0; d <= limit; d++) {
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? v[offset + k + 1]! : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        trace.push(v.slice(offset - d, offset + d + 1));
        return backtrack(a, b, trace);
      }
    }
    trace.push(v.slice(offset - d, offset + d + 1));
  }
  return undefined;
}

function backtrack(a: readonly string[], b: readonly string[], trace: readonly Int32Array[]): Op[] {
  const ops: Op[] = [];
  let x = a.length;
  let y = b.length;
  for (let d = trace.length - 1; d > 0; d--) {
    const previous = trace[d - 1]!;
    const at = (k: number) => previous[k + d - 1]!;
    const k = x - y;
    const down = k === -d || (k !== d && at(k - 1) < at(k + 1));
    const prevK = down ? k + 1 : k - 1;
    const prevX = at(prevK);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      x--;
      y--;
      ops.push({ kind: ' ', line: a[x]! });
    }
    if (down) ops.push({ kind: '+', line: b[--y]! });
    else ops.push({ kind: '-', line: a[--x]! });
  }
  while (x > 0 && y > 0) {
    x--;
    y--;
    ops.push({ kind: ' ', line: a[x]! });
  }
  return ops.reverse();
}

/** Groups the script into hunks with `context` lines around changes. */
function hunks(ops: readonly Op[], context: number): string {
  const changes = ops.flatMap((op, i) => (op.kind === ' ' ? [] : [i]));
  const out: string[] = [];
  // Line numbers before ops[counted]: advanced as hunks move forward.
  let counted = 0;
  let oldLine = 0;
  let newLine = 0;
  let i = 0;
  while (i < changes.length) {
    const start = Math.max(0, changes[i]! - context);
    let end = changes[i]!;
    while (i < changes.length && changes[i]! <= end + 2 * context + 1) end = changes[i++]!;
    const stop = Math.min(ops.length, end + context + 1);
    for (; counted < start; counted++) {
      if (ops[counted]!.kind !== '+') oldLine++;
      if (ops[counted]!.kind !== '-') newLine++;
    }
    const body = ops.slice(start, stop);
    const oldCount = body.filter((op) => op.kind !== '+').length;
    const newCount = body.filter((op) => op.kind !== '-').length;
    out.push(`@@ -${range(oldLine, oldCount)} +${range(newLine, newCount)} @@\n`);
    for (const op of body) {
      out.push(op.line.endsWith('\n') ? `${op.kind}${op.line}` : `${op.kind}${op.line}\n\\ No newline at end of file\n`);
    }
  }
  return out.join('');
}

/** A hunk range as diff -u writes it: 1-based start and count (omitted when 1); an empty range names the line before it. */
function range(before: number, count: number): string {
  if (count === 1) return `${before + 1}`;
  return `${count === 0 ? before : before + 1},${count}`;
}
