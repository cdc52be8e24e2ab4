// Bulk import: a dropped folder whose sub-folders are subject names.
//   people/alice/1.jpg -> subject "alice"; people/bob/x/2.jpg -> "bob"
//   alice/1.jpg (a subject folder dropped on its own) -> "alice"
// A loose file at the top level has no subject and is skipped.

import { t } from './i18n.js';

/**
 * @param {string} relativePath path below the drop, with "/" separators ("people/alice/1.jpg")
 * @returns {string | null}
 */
export function subjectOfPath(relativePath) {
  const parts = relativePath.split('/').filter((p) => p && p !== '.');
  if (parts.length >= 3) return parts[1];
  if (parts.length === 2) return parts[0];
  return null;
}

/**
 * The minimal part of the File and Directory Entries API used here, so tests can stand it in.
 * @typedef {{isFile: boolean, isDirectory: boolean, name: string, fullPath?: string,
 *   file?: (ok: (f: File) => void, err?: (e: unknown) => void) => void,
 *   createReader?: () => {readEntries: (ok: (entries: FsEntry[]) => void, err?: (e: unknown) => void) => void}}} FsEntry
 */

/**
 * Reads every file below the dropped entries, with its path relative to the drop.
 * @param {readonly FsEntry[]} entries
 * @returns {Promise<Array<{path: string, file: File}>>}
 */
export async function readEntries(entries) {
  /** @type {Array<{path: string, file: File}>} */
  const out = [];
  /** @param {FsEntry} entry @param {string} prefix */
  async function walk(entry, prefix) {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isFile && entry.file) {
      const f = entry.file;
      const file = await new Promise((ok, err) => f.call(entry, ok, err));
      out.push({ path, file: /** @type {File} */ (file) });
    } else if (entry.isDirectory && entry.createReader) {
      const reader = entry.createReader();
      // readEntries answers in batches until it answers an empty one.
      for (;;) {
        /** @type {FsEntry[]} */
        const batch = await new Promise((ok, err) => reader.readEntries(ok, err));
        if (!batch.length) break;
        for (const child of batch) await walk(child, path);
      }
    }
  }
  for (const e of entries) await walk(e, '');
  return out;
}

/**
 * Turns the files of a drop (or of a directory picker, using webkitRelativePath) into upload jobs.
 * @param {ReadonlyArray<{path: string, file: File}>} files
 * @param {(file: File) => string | null} reject a reason to skip the file, or null
 */
export function planImport(files, reject) {
  /** @type {Array<{path: string, subject: string, file: File}>} */
  const jobs = [];
  /** @type {Array<{path: string, subject: string, reason: string}>} */
  const skipped = [];
  for (const { path, file } of files) {
    const name = path.split('/').pop() ?? '';
    if (name.startsWith('.')) continue; // .DS_Store and friends
    const subject = subjectOfPath(path);
    if (!subject) {
      skipped.push({ path, subject: '', reason: t('reason_no_subject') });
      continue;
    }
    const why = reject(file);
    if (why) skipped.push({ path, subject, reason: why });
    else jobs.push({ path, subject, file });
  }
  return { jobs, skipped };
}
