import test from 'node:test';
import assert from 'node:assert/strict';
import { subjectPage, subjectQuery } from '../../src/lib/subjects.js';
import { subjectOfPath, readEntries, planImport } from '../../src/lib/folder.js';
import { runPool } from '../../src/lib/pool.js';
import { failuresCsv, csvField } from '../../src/lib/report.js';

test('subjects: the server page is used as given', () => {
  const p = subjectPage({ subjects: ['a', 'b'], page_number: 3, page_size: 2, total_pages: 9, total_elements: 17 }, { search: 'x', page: 3, size: 2 });
  assert.deepEqual(p, { subjects: ['a', 'b'], info: {}, page: 3, size: 2, total: 17, totalPages: 9, serverPaged: true });
});

test('subjects: the gallery gives each subject its number of faces and a face to show', () => {
  const body = {
    subjects: [{ subject: 'alice', faces: 3, image_id: 'id-1' }, { subject: 'bob', faces: 0, image_id: null }, { faces: 2 }, 'carol'],
    page_number: 0,
    page_size: 50,
    total_pages: 1,
    total_elements: 3,
  };
  const p = subjectPage(body, { search: '', page: 0, size: 50 });
  assert.deepEqual(p.subjects, ['alice', 'bob', 'carol']);
  assert.deepEqual(p.info, { alice: { faces: 3, imageId: 'id-1' }, bob: { faces: 0, imageId: null } });
});

test('subjects: a plain list is filtered and paged here', () => {
  const body = { subjects: ['Anna', 'bob', 'Hannah', 'joHN', 'anne'] };
  const p = subjectPage(body, { search: 'AN', page: 1, size: 2 });
  assert.deepEqual(p, { subjects: ['anne'], info: {}, page: 1, size: 2, total: 3, totalPages: 2, serverPaged: false });
  assert.equal(subjectPage(body, { search: '', page: 99, size: 2 }).page, 2);
  assert.deepEqual(subjectPage({}, { search: '', page: 0, size: 5 }).subjects, []);
  assert.equal(subjectQuery({ search: ' al ', page: 2, size: 50 }), 'search=al&page=2&size=50');
});

test('bulk import: sub-folders are subjects', () => {
  assert.equal(subjectOfPath('people/alice/1.jpg'), 'alice');
  assert.equal(subjectOfPath('people/bob/deeper/2.jpg'), 'bob');
  assert.equal(subjectOfPath('alice/1.jpg'), 'alice');
  assert.equal(subjectOfPath('loose.jpg'), null);
});

/** @param {string} name @param {object} children */
function dir(name, children) {
  const list = Object.entries(children).map(([n, v]) => (typeof v === 'string' ? file(n, v) : dir(n, v)));
  return {
    isFile: false, isDirectory: true, name,
    createReader() {
      // answer in batches of two, then an empty batch, as browsers do
      const queue = [...list];
      return {
        /** @param {(e: any[]) => void} ok */
        readEntries(ok) { setTimeout(() => ok(queue.splice(0, 2)), 0); },
      };
    },
  };
}
/** @param {string} name @param {string} type */
function file(name, type) {
  return {
    isFile: true, isDirectory: false, name,
    /** @param {(f: any) => void} ok */
    file(ok) { ok({ name, size: 10, type }); },
  };
}

test('bulk import: entries are walked and planned', async () => {
  const root = dir('people', {
    alice: { '1.jpg': 'image/jpeg', '2.png': 'image/png', '.DS_Store': '' },
    bob: { '1.jpg': 'image/jpeg', notes: { 'x.txt': 'text/plain' } },
    'readme.jpg': 'image/jpeg',
  });
  const files = await readEntries([/** @type {any} */ (root)]);
  assert.deepEqual(files.map((f) => f.path).sort(), ['people/.DS_Store', 'people/alice/.DS_Store', 'people/alice/1.jpg', 'people/alice/2.png', 'people/bob/1.jpg', 'people/bob/notes/x.txt', 'people/readme.jpg'].filter((p) => p !== 'people/.DS_Store').sort());
  const plan = planImport(files, (f) => (f.type.startsWith('image/') ? null : 'Not an image'));
  assert.deepEqual(plan.jobs.map((j) => [j.subject, j.path]), [['alice', 'people/alice/1.jpg'], ['alice', 'people/alice/2.png'], ['bob', 'people/bob/1.jpg'], ['people', 'people/readme.jpg']]);
  assert.deepEqual(plan.skipped, [{ path: 'people/bob/notes/x.txt', subject: 'bob', reason: 'Not an image' }]);
});

test('pool: at most three at a time, every item once', async () => {
  let running = 0;
  let peak = 0;
  /** @type {number[]} */
  const seen = [];
  await runPool([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((r) => setTimeout(r, 5 + (n % 3)));
    seen.push(n);
    running--;
  });
  assert.equal(peak, 3);
  assert.deepEqual(seen.sort(), [1, 2, 3, 4, 5, 6, 7]);
  let started = 0;
  await runPool([1, 2, 3, 4], 2, async () => { started++; }, () => started >= 2);
  assert.equal(started, 2);
});

test('failure report as CSV', () => {
  assert.equal(failuresCsv([{ path: 'p/a,b.jpg', subject: 'a', reason: 'No face found' }, { path: 'p/"q".jpg', subject: '=x', reason: 'Too large' }]),
    'file,subject,reason\r\n"p/a,b.jpg",a,No face found\r\n"p/""q"".jpg","=x",Too large\r\n');
  assert.equal(csvField(null), '');
});
