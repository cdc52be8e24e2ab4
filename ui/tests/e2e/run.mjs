// Runs the browser tests one file at a time, in the order they build on each other: the API
// documents first (they need a fresh stack), then the walk-through (which signs the owner up and
// leaves its state behind), then the tour of every screen. Arguments go to `node --test` before
// the files (e.g. `--test-name-pattern=lightbox`).

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const files = ['docs.test.mjs', 'ui.test.mjs', 'views.test.mjs'].map((f) => path.join(here, f));
const run = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...process.argv.slice(2), ...files], { stdio: 'inherit' });
process.exit(run.status ?? 1);
