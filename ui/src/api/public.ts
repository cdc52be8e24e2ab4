// The public API calls of the UI (UI.md §6), always with the x-api-key header.

import { get, post, put, del, request } from './http.ts';
import type { ApiConfig, ConsistenceStatus, CoreStatus, FaceDetails, FaceImage, FacesPage } from './types.ts';
import { subjectQuery } from '../lib/subjects.js';
import { testQuery } from '../lib/curl.js';

const e = encodeURIComponent;

export const apiConfig = () => get<ApiConfig>('/api/v1/config');
export const consistence = () => get<ConsistenceStatus>('/api/v1/consistence/status');
export const coreStatus = () => get<CoreStatus>('/core/status');

export const subjects = (apiKey: string, q: { search: string; page: number; size: number }) =>
  get<unknown>(`/api/v1/recognition/subjects?${subjectQuery(q)}`, { apiKey });
export const addSubject = (apiKey: string, subject: string) => post('/api/v1/recognition/subjects', { subject }, { apiKey });
export const renameSubject = (apiKey: string, from: string, to: string) =>
  put(`/api/v1/recognition/subjects/${e(from)}`, { subject: to }, { apiKey });
export const deleteSubject = (apiKey: string, subject: string) => del(`/api/v1/recognition/subjects/${e(subject)}`, { apiKey });

/** Subjects with their number of faces and one face to show (ours: `/recognition/gallery`). */
export const gallery = (apiKey: string, q: { search: string; page: number; size: number }) =>
  get<unknown>(`/api/v1/recognition/gallery?${subjectQuery(q)}`, { apiKey });
export const faces = (apiKey: string, subject: string, page: number, size = 15) =>
  get<FacesPage>(`/api/v1/recognition/faces?size=${size}&subject=${e(subject)}&page=${page}`, { apiKey });
export function addFace(apiKey: string, subject: string, file: Blob, name: string, signal?: AbortSignal) {
  const form = new FormData();
  form.append('file', file, name);
  return request<FaceImage>('POST', `/api/v1/recognition/faces?subject=${e(subject)}`, { form, apiKey, signal });
}
export const deleteFace = (apiKey: string, id: string) => del<FaceImage>(`/api/v1/recognition/faces/${e(id)}`, { apiKey });
export const deleteFaces = (apiKey: string, ids: string[]) => post<FaceImage[]>('/api/v1/recognition/faces/delete', ids, { apiKey });
/** The stored image, fetched with the key in a header (never in the URL). */
export const faceImage = (apiKey: string, id: string, signal?: AbortSignal) =>
  request<Blob>('GET', `/api/v1/recognition/faces/${e(id)}/img`, { apiKey, blob: true, signal });

/** A square crop around the stored face, `size` pixels wide (ours). */
export const faceThumbnail = (apiKey: string, id: string, size: number, signal?: AbortSignal) =>
  request<Blob>('GET', `/api/v1/recognition/faces/${e(id)}/thumbnail?size=${size}`, { apiKey, blob: true, signal });
/** Subject, detected box and time added of a stored face (ours). */
export const faceDetails = (apiKey: string, id: string) => get<FaceDetails>(`/api/v1/recognition/faces/${e(id)}/details`, { apiKey });

/** A request of the test page: the images as multipart fields, face_plugins repeated, then `params`. */
export function testRequest(
  apiKey: string,
  path: string,
  plugins: readonly string[],
  files: ReadonlyArray<[string, File]>,
  params: ReadonlyArray<[string, string]> = [],
) {
  const form = new FormData();
  for (const [field, f] of files) form.append(field, f, f.name);
  return request<unknown>('POST', `${path}?${testQuery(plugins, params)}`, { form, apiKey });
}
