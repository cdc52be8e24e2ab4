import { ApiError } from '../api/http.ts';
import { errorText, isSilentStatus } from '../lib/errors.js';

export interface Snack {
  id: number;
  text: string;
  kind: 'info' | 'error';
  /** How many times this text was shown while it was on screen. */
  count: number;
}
export const snacks = $state<Snack[]>([]);
let next = 1;
const timers = new Map<number, ReturnType<typeof setTimeout>>();

/**
 * Shows a message for a few seconds. The same text while it is still shown is not stacked: the
 * shown one counts it and stays a little longer.
 */
export function notify(text: string, kind: 'info' | 'error' = 'info'): void {
  const shown = snacks.find((s) => s.text === text && s.kind === kind);
  const id = shown ? shown.id : next++;
  if (shown) shown.count += 1;
  else snacks.push({ id, text, kind, count: 1 });
  clearTimeout(timers.get(id));
  timers.set(id, setTimeout(() => dismiss(id), kind === 'error' ? 8000 : 3000));
}

export function dismiss(id: number): void {
  clearTimeout(timers.get(id));
  timers.delete(id);
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
