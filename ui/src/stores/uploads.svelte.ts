// Uploads of faces: one module-level queue, so it keeps running while the user moves around the
// app. Three uploads at a time, one progress bar, a report of the failures at the end.

import { addFace } from '../api/public.ts';
import { ApiError } from '../api/http.ts';
import { runPool } from '../lib/pool.js';
import { uploadFailureReason } from '../lib/errors.js';
import { t } from '../lib/i18n.js';

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
export interface Batch {
  id: number;
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
): Batch {
  const batch: Batch = {
    id: nextId++,
    ...target,
    total: jobs.length + skipped.length,
    done: skipped.length,
    ok: 0,
    failures: [...skipped],
    running: jobs.length > 0,
    cancelled: false,
    added: [],
  };
  uploads.batches.push(batch);
  // Work on the reactive proxy so the screens see every change.
  const live = uploads.batches[uploads.batches.length - 1];
  const ctrl = new AbortController();
  controllers.set(live.id, ctrl);
  const started = new Set<number>();
  void runPool(
    jobs,
    CONCURRENCY,
    async (job, index) => {
      started.add(index);
      try {
        const res = await addFace(live.apiKey, job.subject, job.file, job.file.name, ctrl.signal);
        live.ok++;
        live.added.push({ subject: job.subject, imageId: res.image_id });
        uploads.version++;
      } catch (e) {
        const reason =
          e instanceof ApiError ? uploadFailureReason(e.status, e.body) : e instanceof DOMException ? t('reason_stopped') : t('reason_network');
        live.failures.push({ path: job.path, subject: job.subject, reason });
      } finally {
        live.done++;
      }
    },
    () => live.cancelled,
  ).finally(() => {
    jobs.forEach((j, i) => {
      if (!started.has(i)) {
        live.failures.push({ path: j.path, subject: j.subject, reason: t('reason_stopped') });
        live.done++;
      }
    });
    live.running = false;
    controllers.delete(live.id);
    uploads.version++;
  });
  return live;
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
