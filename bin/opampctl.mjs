#!/usr/bin/env node
// `opampctl`: runs the prebuilt bundle (dist/opampctl.mjs, made by `npm run build:cli`, which
// `npm install`, `npm ci` and `npm link` run through `prepare`), so nothing compiles TypeScript at
// run time. In a checkout whose sources are newer than the bundle, it runs them through tsx instead.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bundle = `${root}dist/opampctl.mjs`;

function newestSource() {
  let newest = 0;
  for (const folder of ['cli', 'functions']) {
    const dir = `${root}${folder}`;
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir, { recursive: true })) {
      if (String(name).endsWith('.ts')) newest = Math.max(newest, statSync(`${dir}/${name}`).mtimeMs);
    }
  }
  return newest;
}

if (existsSync(bundle) && statSync(bundle).mtimeMs >= newestSource()) {
  await import(bundle);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../cli/run.ts');
}
