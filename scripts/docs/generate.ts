// npm run docs [-- --check]
//
// Rewrites the generated blocks of the reference pages from the code (see
// pages.ts). With --check it writes nothing and exits non-zero when a page is
// stale.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fillBlocks, generatedBlocks } from './pages.js';

const root = join(import.meta.dirname, '../..');
const check = process.argv.includes('--check');
let stale = 0;
for (const [page, blocks] of Object.entries(await generatedBlocks())) {
  const path = join(root, page);
  const current = await readFile(path, 'utf8');
  const fresh = fillBlocks(current, blocks, page);
  if (fresh === current) continue;
  stale++;
  if (check) console.error(`${page} is stale: run npm run docs`);
  else {
    await writeFile(path, fresh);
    console.log(`wrote ${page}`);
  }
}
if (check && stale > 0) process.exitCode = 1;
