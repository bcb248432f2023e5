#!/usr/bin/env node
// `npx opampctl` from the project: runs the TypeScript CLI through tsx.
import { register } from 'tsx/esm/api';

register();
await import('../cli/run.ts');
