// One fetch wrapper for every call: JSON in and out, errors as ApiError, and the global reactions
// of UI.md §0 (401 → log in again, 502 → back to the start-up screen).

import { errorText } from '../lib/errors.js';

export class ApiError extends Error {
  readonly status: number;
  readonly body: unknown;
  constructor(status: number, body: unknown) {
    super(errorText(body));
    this.status = status;
    this.body = body;
  }
}

export interface RequestOptions {
  json?: unknown;
  form?: FormData;
  headers?: Record<string, string>;
  apiKey?: string;
  signal?: AbortSignal;
  /** Answer the raw Response (for images). */
  blob?: boolean;
  /** Do not run the global 401 reaction (login form, status checks). */
  noAuthRedirect?: boolean;
}

interface Hooks {
  unauthorized: () => void;
  badGateway: () => void;
}
const hooks: Hooks = { unauthorized: () => {}, badGateway: () => {} };

/** The session wires its reactions here (no import cycle). */
export function setHttpHooks(h: Partial<Hooks>): void {
  Object.assign(hooks, h);
}

async function parseBody(res: Response): Promise<unknown> {
  const text = await res.text();
  if (!text) return null;
  const type = res.headers.get('content-type') ?? '';
  if (type.includes('json') || /^\s*[[{]/.test(text)) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

export async function request<T = unknown>(method: string, url: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...opts.headers };
  let body: BodyInit | undefined;
  if (opts.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.json);
  } else if (opts.form) {
    body = opts.form;
  }
  if (opts.apiKey) headers['x-api-key'] = opts.apiKey;
  let res: Response;
  try {
    res = await fetch(url, { method, headers, body, credentials: 'same-origin', signal: opts.signal });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError(0, { message: 'The server cannot be reached' });
  }
  if (!res.ok) {
    const errBody = await parseBody(res).catch(() => null);
    if (res.status === 401 && !opts.noAuthRedirect && url.startsWith('/admin')) hooks.unauthorized();
    if (res.status === 502) hooks.badGateway();
    throw new ApiError(res.status, errBody);
  }
  if (opts.blob) return (await res.blob()) as T;
  return (await parseBody(res)) as T;
}

export const get = <T>(url: string, opts?: RequestOptions) => request<T>('GET', url, opts);
export const post = <T>(url: string, json?: unknown, opts?: RequestOptions) => request<T>('POST', url, { ...opts, json });
export const put = <T>(url: string, json?: unknown, opts?: RequestOptions) => request<T>('PUT', url, { ...opts, json });
export const del = <T>(url: string, opts?: RequestOptions) => request<T>('DELETE', url, opts);
