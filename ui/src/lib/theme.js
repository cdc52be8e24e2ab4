// The colour theme: the user's choice (light, dark, or the system's), kept in localStorage, and
// the theme it resolves to, set as data-theme on <html> before the first paint.

/** @typedef {'light' | 'dark' | 'system'} ThemeChoice */

export const THEME_KEY = 'visage.theme';
/** @type {ThemeChoice[]} */
export const THEME_CHOICES = ['light', 'dark', 'system'];

/**
 * A stored value read back; anything unknown (or nothing) follows the system.
 * @param {unknown} value
 * @returns {ThemeChoice}
 */
export function parseThemeChoice(value) {
  return value === 'light' || value === 'dark' ? value : 'system';
}

/**
 * @param {ThemeChoice} choice
 * @param {boolean} systemDark whether the system asks for dark (prefers-color-scheme: dark)
 * @returns {'light' | 'dark'}
 */
export function resolveTheme(choice, systemDark) {
  if (choice === 'system') return systemDark ? 'dark' : 'light';
  return choice;
}
