// The state of the face collection page and what can be done to it: the service, its subjects
// (searched and paged on the server), the selected subject's images (paged, 15 at a time), the
// selections, the image open in the lightbox, and the actions, each confirming what it changed.
// The page and its parts (components/collection/) only show it and call it.

import * as admin from '../api/admin.ts';
import * as pub from '../api/public.ts';
import type { FaceImage, Model } from '../api/types.ts';
import { ApiError } from '../api/http.ts';
import { session } from './session.svelte.ts';
import { confirmDialog, promptDialog } from './dialogs.svelte.ts';
import { notify, notifyError } from './snackbar.svelte.ts';
import { startUpload, uploads } from './uploads.svelte.ts';
import { subjectPage, type SubjectPage } from '../lib/subjects.js';
import { readEntries, planImport, type FsEntry } from '../lib/folder.js';
import { validateEntityName, validateImageFile } from '../lib/validation.js';
import { tooLargeText } from '../lib/errors.js';
import { t } from '../lib/i18n.js';

export const SUBJECTS_PAGE = 50;
export const IMAGES_PAGE = 15;

export class CollectionState {
  readonly appId: string;
  readonly modelId: string;

  model = $state<Model | null>(null);
  search = $state('');
  page = $state(0);
  subjects = $state<SubjectPage | null>(null);
  selected = $state<string | null>(null);
  bulkSubjects = $state(false);
  checkedSubjects = $state<string[]>([]);

  images = $state<FaceImage[]>([]);
  imagesTotal = $state(0);
  imagesPage = $state(0);
  imagesPages = $state(0);
  imagesLoading = $state(false);
  checkedImages = $state<string[]>([]);
  /** The image open in the lightbox (an index into `images`). */
  viewing = $state<number | null>(null);

  apiKey = $derived(this.model?.apiKey ?? '');
  hasMoreImages = $derived(this.imagesPage + 1 < this.imagesPages);

  /** The selected subject's photos being uploaded or refused, shown as tiles before its images. */
  uploadTiles = $derived(
    uploads.batches
      .filter((b) => b.kind === 'upload' && b.modelId === this.model?.id)
      .flatMap((b) => b.files.map((f, index) => ({ batch: b.id, index, f })))
      .filter(({ f }) => f.subject === this.selected && f.state !== 'done'),
  );

  #subjectSeq = 0;
  #imageSeq = 0;
  /** The gallery adds counts and avatars; a server without it answers 404: the plain list then. */
  #galleryMissing = false;

  constructor(appId: string, modelId: string) {
    this.appId = appId;
    this.modelId = modelId;
  }

  async loadModel(): Promise<void> {
    this.model = await admin.getModel(this.appId, this.modelId);
  }

  /** The model's counts after a change (a failure here is not worth a message). */
  #refreshCounts(): void {
    void this.loadModel().catch(() => {});
  }

  // ---- subjects ----

  async #fetchSubjects(q: { search: string; page: number; size: number }): Promise<unknown> {
    if (!this.#galleryMissing) {
      try {
        return await pub.gallery(this.apiKey, q);
      } catch (e) {
        if (!(e instanceof ApiError && e.status === 404)) throw e;
        this.#galleryMissing = true;
      }
    }
    return pub.subjects(this.apiKey, q);
  }

  async loadSubjects(): Promise<void> {
    if (!this.apiKey) return;
    const mine = ++this.#subjectSeq;
    const q = { search: this.search, page: this.page, size: SUBJECTS_PAGE };
    try {
      const body = await this.#fetchSubjects(q);
      if (mine !== this.#subjectSeq) return;
      const subjects = subjectPage(body, q);
      this.subjects = subjects;
      if (subjects.page !== this.page) this.page = subjects.page;
      if (!this.selected) this.selected = subjects.subjects[0] ?? null;
    } catch (e) {
      notifyError(e);
    }
  }

  async #exists(name: string): Promise<boolean> {
    const q = { search: name, page: 0, size: SUBJECTS_PAGE };
    return subjectPage(await pub.subjects(this.apiKey, q), q).subjects.some((s) => s === name);
  }

  async addSubject(): Promise<void> {
    const name = await promptDialog({
      title: t('add_subject'),
      label: t('name'),
      confirmLabel: t('create'),
      validate: (v) => validateEntityName(v, this.subjects?.subjects ?? []),
    });
    if (!name) return;
    try {
      await pub.addSubject(this.apiKey, name);
      notify(t('subject_created', { name }));
      this.selected = name;
      this.search = '';
      await this.loadSubjects();
      this.#refreshCounts();
    } catch (e) {
      notifyError(e);
    }
  }

  async renameSubject(old: string): Promise<void> {
    const name = await promptDialog({
      title: t('rename_subject'),
      label: t('name'),
      value: old,
      confirmLabel: t('save'),
      validate: (v) => validateEntityName(v, [], old),
    });
    if (!name || name === old) return;
    try {
      const joining = await this.#exists(name);
      if (joining) {
        const ok = await confirmDialog({ title: t('join_subjects_title'), text: t('join_subjects_text'), confirmLabel: t('join') });
        if (!ok) return;
      }
      await pub.renameSubject(this.apiKey, old, name);
      notify(t(joining ? 'subjects_joined' : 'subject_renamed', { name }));
      if (this.selected === old) this.selected = name;
      await this.loadSubjects();
      this.#refreshCounts();
    } catch (e) {
      notifyError(e);
    }
  }

  async deleteSubjects(names: string[]): Promise<void> {
    if (!names.length) return;
    const count = names.length;
    const ok = await confirmDialog({
      title: count === 1 ? t('delete_subject') : t('delete_subjects_title', { count }),
      text: count === 1 ? t('delete_subject_confirm', { name: names[0] }) : t('delete_subjects_confirm', { count }),
      confirmLabel: t('delete'),
      danger: true,
    });
    if (!ok) return;
    let deleted = 0;
    for (const n of names) {
      try {
        await pub.deleteSubject(this.apiKey, n);
        deleted++;
      } catch (e) {
        notifyError(e);
      }
    }
    if (deleted) notify(t('subjects_deleted', { count: deleted, name: names[0] }));
    if (this.selected && names.includes(this.selected)) this.selected = null;
    this.checkedSubjects = [];
    this.bulkSubjects = false;
    await this.loadSubjects();
    this.#refreshCounts();
  }

  toggleSubject(name: string, on: boolean): void {
    this.checkedSubjects = on ? [...this.checkedSubjects, name] : this.checkedSubjects.filter((x) => x !== name);
  }

  // ---- the selected subject's images ----

  /** The first page again (`reset`), or the next one. */
  async loadImages(reset: boolean): Promise<void> {
    const subject = this.selected;
    if (!this.apiKey || !subject) {
      this.images = [];
      this.imagesTotal = 0;
      return;
    }
    const mine = reset ? ++this.#imageSeq : this.#imageSeq;
    const p = reset ? 0 : this.imagesPage + 1;
    this.imagesLoading = true;
    try {
      const r = await pub.faces(this.apiKey, subject, p, IMAGES_PAGE);
      if (mine !== this.#imageSeq) return;
      const list = Array.isArray(r?.faces) ? r.faces : [];
      const known = new Set(this.images.map((i) => i.image_id));
      this.images = reset ? list : [...this.images, ...list.filter((f) => !known.has(f.image_id))];
      this.imagesPage = p;
      this.imagesPages = r?.total_pages ?? 0;
      this.imagesTotal = r?.total_elements ?? this.images.length;
    } catch (e) {
      notifyError(e);
    } finally {
      if (mine === this.#imageSeq) this.imagesLoading = false;
    }
  }

  /** A subject chosen (or the key changed): its first page, nothing checked or open. */
  subjectChanged(): void {
    this.checkedImages = [];
    this.viewing = null;
    void this.loadImages(true);
  }

  /** Uploads of this service finished: counts, subjects and images again. */
  uploadsChanged(): void {
    void this.loadSubjects();
    void this.loadImages(true);
    this.#refreshCounts();
  }

  toggleImage(id: string, on: boolean): void {
    this.checkedImages = on ? [...this.checkedImages, id] : this.checkedImages.filter((x) => x !== id);
  }

  /** Deletes after asking; true when deleted. */
  async deleteImages(ids: string[]): Promise<boolean> {
    if (!ids.length) return false;
    const count = ids.length;
    const ok = await confirmDialog({
      title: t('delete_images_title', { count }),
      text: t('delete_images_confirm', { count }),
      confirmLabel: t('delete'),
      danger: true,
    });
    if (!ok) return false;
    try {
      if (count === 1) await pub.deleteFace(this.apiKey, ids[0]);
      else await pub.deleteFaces(this.apiKey, ids);
      notify(t('images_deleted', { count }));
      this.checkedImages = [];
      await this.loadImages(true);
      void this.loadSubjects();
      this.#refreshCounts();
      return true;
    } catch (e) {
      notifyError(e);
      return false;
    }
  }

  /** Deleting the image open in the lightbox: the next one is shown, or the lightbox closes. */
  async deleteViewed(id: string): Promise<void> {
    const at = this.viewing ?? 0;
    if (!(await this.deleteImages([id]))) return;
    this.viewing = this.images.length ? Math.min(at, this.images.length - 1) : null;
  }

  /** Moving in the lightbox past the loaded images loads the next page first. */
  async view(i: number): Promise<void> {
    if (i >= this.images.length && this.hasMoreImages) await this.loadImages(false);
    if (i >= 0 && i < this.images.length) this.viewing = i;
  }

  // ---- uploads ----

  #rejectReason(f: File): string | null {
    const err = validateImageFile(f, session.maxFileSize);
    return err === 'v_image_ext' ? t('reason_not_image') : err === 'v_image_size' ? tooLargeText(session.maxFileSize) : null;
  }

  #target() {
    const m = this.model;
    return m ? { apiKey: m.apiKey, modelId: m.id, serviceName: m.name } : null;
  }

  /** Photos chosen for one subject (each file once). */
  uploadTo(subject: string, files: File[]): void {
    const target = this.#target();
    if (!target) return;
    const seen = new Set<string>();
    const jobs = [];
    const skipped = [];
    for (const f of files) {
      const key = `${f.name}:${f.size}:${f.lastModified}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const why = this.#rejectReason(f);
      if (why) skipped.push({ path: f.name, subject, reason: why });
      else jobs.push({ path: f.name, subject, file: f });
    }
    startUpload(target, jobs, skipped, 'upload');
  }

  /** A folder's files, each under the sub-folder that names its subject. */
  importFiles(files: Array<{ path: string; file: File }>): void {
    const target = this.#target();
    if (!target) return;
    const { jobs, skipped } = planImport(files, (f) => this.#rejectReason(f));
    if (!jobs.length && !skipped.length) {
      notify(t('no_files'), 'error');
      return;
    }
    startUpload(target, jobs, skipped);
  }

  /** A drop of folders: true when it held any (else the drop zone takes the plain files). */
  dropFolder(dt: DataTransfer): boolean {
    const entries: FsEntry[] = [];
    for (const item of Array.from(dt.items ?? [])) {
      const entry = item.kind === 'file' ? (item.webkitGetAsEntry?.() as unknown as FsEntry | null) : null;
      if (entry) entries.push(entry);
    }
    if (!entries.length) return false;
    readEntries(entries)
      .then((files) => this.importFiles(files))
      .catch(notifyError);
    return true;
  }
}
