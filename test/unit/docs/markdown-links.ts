// Reads Markdown the way GitHub renders it, as far as links are concerned:
// which headings a page has (as GitHub's anchor slugs) and which links it makes.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** Lines outside fenced code blocks, with their 1-based line numbers. */
function proseLines(text: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  let fence: string | undefined;
  text.split('\n').forEach((raw, index) => {
    const marker = /^\s*(`{3,}|~{3,})/.exec(raw)?.[1];
    if (marker !== undefined) {
      if (fence === undefined) fence = marker[0]!.repeat(marker.length);
      else if (marker.startsWith(fence)) fence = undefined;
      return;
    }
    if (fence === undefined) out.push({ line: index + 1, text: raw });
  });
  return out;
}

/** The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens. */
export function githubSlug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // a link's text stays, its target goes
    .replace(/<[^>]+>/g, '')
    .toLowerCase()
    .trim();
  // GitHub keeps letters, digits, marks, connector punctuation (`_`), hyphens and spaces.
  return text.replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '').replace(/ /g, '-');
}

/** Every anchor a page offers, with GitHub's -1, -2 suffixes for repeated headings. */
export function headingAnchors(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const { text: line } of proseLines(text)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const slug = githubSlug(heading);
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

export interface Link {
  line: number;
  target: string;
}

/** Inline links and images outside code (fenced blocks and `code spans`). */
export function links(text: string): Link[] {
  const out: Link[] = [];
  for (const { line, text: raw } of proseLines(text)) {
    const prose = raw.replace(/(`+)(?:(?!\1).)+?\1/g, '');
    for (const match of prose.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      out.push({ line, target: match[1]! });
    }
  }
  return out;
}

/** README.md and every Markdown file under docs/, as paths relative to `root`. */
export function documentationFiles(root: string): string[] {
  const files = ['README.md'];
  const walk = (dir: string) => {
    for (const name of readdirSync(join(root, dir)).sort()) {
      const path = join(dir, name);
      if (statSync(join(root, path)).isDirectory()) walk(path);
      else if (name.endsWith('.md')) files.push(path);
    }
  };
  if (existsSync(join(root, 'docs'))) walk('docs');
  return files;
}

/**
 * The links in `file` (relative to `root`) that do not resolve: a relative
 * path that names no file or folder, or an #anchor that the page it points
 * into does not have. Links to other sites are not followed.
 */
export function brokenLinks(root: string, file: string, read: (path: string) => string = (p) => readFileSync(p, 'utf8')): string[] {
  const absolute = resolve(root, file);
  const problems: string[] = [];
  for (const { line, target } of links(read(absolute))) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:, ...
    const hash = target.indexOf('#');
    const pathPart = decodeURIComponent(hash === -1 ? target : target.slice(0, hash));
    const anchor = hash === -1 ? undefined : decodeURIComponent(target.slice(hash + 1));
    const destination = pathPart === '' ? absolute : pathPart.startsWith('/') ? join(root, pathPart) : resolve(dirname(absolute), pathPart);
    const where = `${file}:${line}: ${target}`;
    if (
      !relative(root, destination)
        .split(/[\\/]/)
        .every((part) => part !== '..')
    ) {
      problems.push(`${where}: points outside the repository`);
      continue;
    }
    if (!existsSync(destination)) {
      problems.push(`${where}: no such file`);
      continue;
    }
    if (anchor === undefined || anchor === '') continue;
    if (!destination.endsWith('.md') || statSync(destination).isDirectory()) {
      problems.push(`${where}: an anchor into something that is not a Markdown page`);
      continue;
    }
    if (!headingAnchors(read(destination)).has(anchor)) problems.push(`${where}: no heading with anchor #${anchor}`);
  }
  return problems;
}
