import { ApiError } from '../api/http.ts';
import { errorText, isSilentStatus } from '../lib/errors.js';

export interface Snack {
  id: number;
  text: string;
  kind: 'info' | 'error';
}
export const snacks = $state<Snack[]>([]);
let next = 1;

export function notify(text: string, kind: 'info' | 'error' = 'info'): void {
  const id = next++;
  snacks.push({ id, text, kind });
  setTimeout(() => dismiss(id), kind === 'error' ? 8000 : 3000);
}

export function dismiss(id: number): void {
  const i = snacks.findIndex((s) => s.id === id);
  if (i >= 0) snacks.splice(i, 1);
}

/** Shows a failed call: the server's text, never 502/504 (the start-up screen handles those) nor 401. */
export function notifyError(err: unknown): void {
  if (err instanceof DOMException && err.name === 'AbortError') return;
  if (err instanceof ApiError) {
    if (isSilentStatus(err.status) || err.status === 401) return;
    notify(errorText(err.body), 'error');
    return;
  }
  console.error(err);
  notify(errorText(null), 'error');
}
