// Runs the browser tests one file after the other, in the order they build on each other: the
// API documents first (they need a fresh stack), then the walk-through (which signs the owner up
// and writes down what it made), then the tour of every screen, which reads it. One `node --test`
// per file, because given several files it runs them in its own order. Arguments go to each
// `node --test` before its file (e.g. `--test-name-pattern=lightbox`).

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fs from 'node:fs';
import { STATE_FILE } from './browser.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const files = ['docs.test.mjs', 'ui.test.mjs', 'views.test.mjs'];
// What an earlier run made belongs to another database.
fs.rmSync(STATE_FILE, { force: true });
const failed = [];
for (const file of files) {
  const run = spawnSync(process.execPath, ['--test', ...process.argv.slice(2), path.join(here, file)], { stdio: 'inherit' });
  if (run.status !== 0) failed.push(file);
}
if (failed.length) {
  console.error(`browser tests failed in: ${failed.join(', ')}`);
  process.exit(1);
}
