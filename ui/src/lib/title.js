// The document title of each screen: the screen, then the service and the application it
// belongs to, then the product ("Dashboard · Staff · Front door · Visage").

import { t } from './i18n.js';

/** @type {Record<string, import('./i18n.js').MessageKey>} */
const SCREENS = {
  '/login': 'login_title',
  '/sign-up': 'signup_title',
  '/sign-up/confirm': 'signup_confirm_title',
  '/reset-password': 'reset_title',
  '/demo': 'demo_title',
  '/': 'applications',
  '/create-application': 'create_application',
  '/dashboard': 'dashboard',
  '/test-model': 'test',
  '/manage-collection': 'face_collection',
};

/**
 * @param {string} path the route's path
 * @param {{ app?: string, service?: string, starting?: boolean }} [names] names shown on the page
 * @returns {string}
 */
export function pageTitle(path, { app = '', service = '', starting = false } = {}) {
  const key = starting ? 'title_starting' : SCREENS[path];
  const parts = [key ? t(key) : '', service, app, t('product')];
  return parts.filter((p) => p !== '').join(' · ');
}
