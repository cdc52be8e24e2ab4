// The text of the snackbar for a failed call.

import { t } from './i18n.js';

export const FALLBACK_MESSAGE = t('something_wrong');

/**
 * error_description, else message, else the body when it is text, else the fallback.
 * @param {unknown} body parsed JSON body, text, or null
 */
export function errorText(body) {
  if (body && typeof body === 'object') {
    const b = /** @type {Record<string, unknown>} */ (body);
    if (typeof b.error_description === 'string' && b.error_description) return b.error_description;
    if (typeof b.message === 'string' && b.message) return b.message;
    return FALLBACK_MESSAGE;
  }
  if (typeof body === 'string' && body.trim() && !/^\s*</.test(body)) return body.trim().slice(0, 300);
  return FALLBACK_MESSAGE;
}

/** Gateway errors are never shown (the status screen takes over). @param {number} status */
export function isSilentStatus(status) {
  return status === 502 || status === 504;
}

/** @param {unknown} body */
export function errorCode(body) {
  if (body && typeof body === 'object') {
    const c = /** @type {Record<string, unknown>} */ (body).code;
    if (typeof c === 'number') return c;
  }
  return null;
}

/**
 * The login form's message: bad credentials and a duplicate e-mail get their own sentences.
 * @param {unknown} body
 */
export function loginErrorText(body) {
  if (body && typeof body === 'object') {
    const b = /** @type {Record<string, unknown>} */ (body);
    if (b.error_description === 'Bad credentials') return t('err_bad_credentials');
    if (b.code === 4) return t('err_email_used');
  }
  return errorText(body);
}

/**
 * Why an upload of a face failed, from the API's answer.
 * @param {number} status
 * @param {unknown} body
 */
export function uploadFailureReason(status, body) {
  const code = errorCode(body);
  if (status === 413) return t('reason_too_large');
  if (code === 28) return t('reason_no_face');
  if (code === 31) return t('reason_several_faces');
  if (code === 21) return t('reason_not_image');
  if (status === 0) return t('reason_network');
  const text = errorText(body);
  return text === FALLBACK_MESSAGE ? `HTTP ${status}` : text;
}

/**
 * "Larger than 5 MB: the limit", the limit in MB with at most one decimal.
 * @param {number} maxBytes
 */
export function tooLargeText(maxBytes) {
  return t('test_too_large', { mb: Math.round((maxBytes / 1048576) * 10) / 10 });
}

/**
 * What the test page says, next to its upload control, when a file is refused before it is sent
 * (a validation key of validateImageFile) or a request fails (status and body of the answer).
 * @param {{ invalid?: string | null, status?: number, body?: unknown, maxBytes: number }} failure
 */
export function testFailureText({ invalid, status, body, maxBytes }) {
  if (invalid === 'v_image_ext') return t('reason_not_image');
  if (invalid === 'v_image_size' || status === 413) return tooLargeText(maxBytes);
  if (invalid === 'v_body_size') return t('v_body_size');
  const code = errorCode(body);
  if (code === 28) return t('reason_no_face');
  if (code === 21) return t('reason_not_image');
  if (status === 0) return t('reason_network');
  return errorText(body);
}
