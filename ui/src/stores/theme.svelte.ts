// The colour theme chosen in the user menu. applyTheme() runs in main.ts before the app is
// mounted, so the first paint already has the right colours (no inline script: the front door's
// Content-Security-Policy allows none).

import { parseThemeChoice, resolveTheme, THEME_KEY, type ThemeChoice } from '../lib/theme.js';

function stored(): ThemeChoice {
  try {
    return parseThemeChoice(localStorage.getItem(THEME_KEY));
  } catch {
    return 'system';
  }
}

export const theme = $state({ choice: stored() });

const systemDark = () => window.matchMedia?.('(prefers-color-scheme: dark)').matches ?? false;

export function applyTheme(): void {
  document.documentElement.dataset.theme = resolveTheme(theme.choice, systemDark());
}

export function setTheme(choice: ThemeChoice): void {
  theme.choice = choice;
  try {
    if (choice === 'system') localStorage.removeItem(THEME_KEY);
    else localStorage.setItem(THEME_KEY, choice);
  } catch {
    /* private mode: the choice lasts until the tab is closed */
  }
  applyTheme();
}

/** Applies the stored choice now and follows the system's changes while it is "system". */
export function startTheme(): void {
  applyTheme();
  window.matchMedia?.('(prefers-color-scheme: dark)').addEventListener('change', applyTheme);
}
