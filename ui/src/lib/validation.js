// Client-side rules of the forms. Each returns null when the value is fine, else a message key of
// the string catalogue.

export const EMAIL_RE = /^[_A-Za-z0-9-+]+(\.[_A-Za-z0-9-]+)*@[A-Za-z0-9-]+(\.[A-Za-z0-9]+)*(\.[A-Za-z]{2,})$/;
export const NAME_MAX = 50;
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 255;
const FORBIDDEN = /[;/\\]/;

/** @typedef {import('./i18n.js').MessageKey} MessageKey */

/** @param {string} email @returns {MessageKey | null} */
export function validateEmail(email) {
  const e = email.trim();
  if (!e) return 'v_required';
  return EMAIL_RE.test(e) ? null : 'v_email';
}

/** @param {string} password @returns {MessageKey | null} */
export function validatePassword(password) {
  if (!password) return 'v_required';
  if (password.length < PASSWORD_MIN) return 'v_password_min';
  if (password.length > PASSWORD_MAX) return 'v_password_max';
  return null;
}

/** @param {string} password @param {string} confirm @returns {MessageKey | null} */
export function validateConfirm(password, confirm) {
  return password === confirm ? null : 'v_password_match';
}

/** First and last names: required, at most 50 characters. @param {string} name @returns {MessageKey | null} */
export function validatePersonName(name) {
  const n = name.trim();
  if (!n) return 'v_required';
  return n.length > NAME_MAX ? 'v_name_max' : null;
}

/**
 * Application, service and subject names: 1–50 characters, none of ; / \ and not already taken
 * (compared case-insensitively, ignoring `current`, the name being edited).
 * @param {string} name
 * @param {readonly string[]} [taken]
 * @param {string} [current]
 * @returns {MessageKey | null}
 */
export function validateEntityName(name, taken = [], current) {
  const n = name.trim();
  if (!n) return 'v_required';
  if (n.length > NAME_MAX) return 'v_name_max';
  if (FORBIDDEN.test(n)) return 'v_name_chars';
  const lower = n.toLowerCase();
  if (current !== undefined && lower === current.toLowerCase()) return null;
  if (taken.some((t) => t.toLowerCase() === lower)) return 'v_name_taken';
  return null;
}

/** The exact typed name that confirms a deletion. @param {string} typed @param {string} name */
export function confirmsDeletion(typed, name) {
  return typed.trim() === name;
}

export const IMAGE_EXTENSIONS = ['jpeg', 'jpg', 'png', 'webp', 'bmp', 'gif'];

/**
 * An image the browser can draw and the API accepts, within the size limit.
 * @param {{name: string, size: number, type?: string}} file
 * @param {number | null | undefined} maxBytes
 * @returns {MessageKey | null}
 */
export function validateImageFile(file, maxBytes) {
  const ext = file.name.toLowerCase().split('.').pop() ?? '';
  if (!IMAGE_EXTENSIONS.includes(ext)) return 'v_image_ext';
  if (file.type && !file.type.startsWith('image/')) return 'v_image_ext';
  if (maxBytes && file.size > maxBytes) return 'v_image_size';
  return null;
}
