// Uploads of faces: one module-level queue, so it keeps running while the user moves around the
// app. Three uploads at a time, one progress bar, a report of the failures at the end. A batch is
// an `import` (a folder whose sub-folders name the subjects) or an `upload` (photos chosen for one
// subject, shown as tiles on the collection page, each with its state).

import { addFace } from '../api/public.ts';
import { ApiError } from '../api/http.ts';
import { runPool } from '../lib/pool.js';
import { tooLargeText, uploadFailureReason } from '../lib/errors.js';
import { t } from '../lib/i18n.js';
import { session } from './session.svelte.ts';

export interface UploadJob {
  path: string;
  subject: string;
  file: File;
}
export interface Failure {
  path: string;
  subject: string;
  reason: string;
}
export type FileState = 'waiting' | 'uploading' | 'done' | 'failed';
export interface FileProgress {
  path: string;
  subject: string;
  file: File | null;
  state: FileState;
  reason?: string;
  imageId?: string;
}
export interface Batch {
  id: number;
  kind: 'import' | 'upload';
  apiKey: string;
  modelId: string;
  serviceName: string;
  total: number;
  done: number;
  ok: number;
  failures: Failure[];
  running: boolean;
  cancelled: boolean;
  /** Subjects and image ids added, for screens that want to refresh. */
  added: Array<{ subject: string; imageId: string }>;
  /** Each file, in the order given (skipped ones first, already failed). */
  files: FileProgress[];
}

export const uploads = $state<{ batches: Batch[]; version: number }>({ batches: [], version: 0 });
const CONCURRENCY = 3;
let nextId = 1;
const controllers = new Map<number, AbortController>();

export function isUploading(): boolean {
  return uploads.batches.some((b) => b.running);
}

export function startUpload(
  target: { apiKey: string; modelId: string; serviceName: string },
  jobs: UploadJob[],
  skipped: Failure[] = [],
  kind: Batch['kind'] = 'import',
): Batch {
  const batch: Batch = {
    id: nextId++,
    kind,
    ...target,
    total: jobs.length + skipped.length,
    done: skipped.length,
    ok: 0,
    failures: [...skipped],
    running: jobs.length > 0,
    cancelled: false,
    added: [],
    files: [
      ...skipped.map((f): FileProgress => ({ ...f, file: null, state: 'failed' })),
      ...jobs.map((j): FileProgress => ({ path: j.path, subject: j.subject, file: j.file, state: 'waiting' })),
    ],
  };
  uploads.batches.push(batch);
  // Work on the reactive proxy so the screens see every change.
  const live = uploads.batches[uploads.batches.length - 1];
  const ctrl = new AbortController();
  controllers.set(live.id, ctrl);
  const started = new Set<number>();
  const maxFileSize = session.maxFileSize;
  void runPool(
    jobs,
    CONCURRENCY,
    async (job, index) => {
      started.add(index);
      const tile = live.files[skipped.length + index];
      tile.state = 'uploading';
      try {
        const res = await addFace(live.apiKey, job.subject, job.file, job.file.name, ctrl.signal);
        live.ok++;
        live.added.push({ subject: job.subject, imageId: res.image_id });
        tile.state = 'done';
        tile.imageId = res.image_id;
        uploads.version++;
      } catch (e) {
        const reason =
          e instanceof ApiError
            ? e.status === 413
              ? tooLargeText(maxFileSize)
              : uploadFailureReason(e.status, e.body)
            : e instanceof DOMException
              ? t('reason_stopped')
              : t('reason_network');
        live.failures.push({ path: job.path, subject: job.subject, reason });
        tile.state = 'failed';
        tile.reason = reason;
      } finally {
        live.done++;
      }
    },
    () => live.cancelled,
  ).finally(() => {
    jobs.forEach((j, i) => {
      if (!started.has(i)) {
        live.failures.push({ path: j.path, subject: j.subject, reason: t('reason_stopped') });
        const tile = live.files[skipped.length + i];
        tile.state = 'failed';
        tile.reason = t('reason_stopped');
        live.done++;
      }
    });
    live.running = false;
    controllers.delete(live.id);
    uploads.version++;
    // A finished upload without failures has nothing left to say: its tiles are stored faces now.
    if (live.kind === 'upload' && live.failures.length === 0) setTimeout(() => dismissBatch(live.id), 4000);
  });
  return live;
}

/** Forgets one failed tile of an upload (the batch goes when nothing is left to show). */
export function dismissFile(id: number, index: number): void {
  const b = uploads.batches.find((x) => x.id === id);
  if (!b || b.files[index]?.state !== 'failed') return;
  b.files.splice(index, 1);
  if (!b.running && b.files.every((f) => f.state === 'done')) dismissBatch(id);
}

export function cancelUpload(id: number): void {
  const b = uploads.batches.find((x) => x.id === id);
  if (!b) return;
  b.cancelled = true;
  controllers.get(id)?.abort();
}

export function cancelAll(): void {
  for (const b of uploads.batches) if (b.running) cancelUpload(b.id);
}

export function dismissBatch(id: number): void {
  const i = uploads.batches.findIndex((b) => b.id === id);
  if (i >= 0 && !uploads.batches[i].running) uploads.batches.splice(i, 1);
}
