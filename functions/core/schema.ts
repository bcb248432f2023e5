import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

/**
 * The schema library every validator in the backend uses: zod's mini build,
 * imported by name (`import * as z from './schema.js'`) so that a bundle takes
 * only the functions it calls; the full build brings all of its ~450 KB into
 * every function that validates anything. The mini build loads no error texts
 * of its own: English is set here once, so that rejected input is answered
 * with the same readable messages.
 */
config(en());

export * from 'zod/mini';
