// Client-side routing by path with the history API; query parameters carry app, model and type.

export const route = $state({ path: location.pathname, search: location.search });

export function query(name: string): string {
  return new URLSearchParams(route.search).get(name) ?? '';
}

export function navigate(url: string, replace = false): void {
  const u = new URL(url, location.origin);
  const target = u.pathname + u.search + u.hash;
  if (target !== location.pathname + location.search + location.hash) {
    if (replace) history.replaceState(null, '', target);
    else history.pushState(null, '', target);
  }
  route.path = u.pathname;
  route.search = u.search;
  window.scrollTo(0, 0);
}

/** The current location, for `?redirect=`. */
export function here(): string {
  return location.pathname + location.search;
}

export function serviceUrl(page: 'dashboard' | 'test-model' | 'manage-collection', app: string, model: string, type: string): string {
  const q = new URLSearchParams({ app, model, type });
  return `/${page}?${q}`;
}

export function startRouter(): void {
  window.addEventListener('popstate', () => {
    route.path = location.pathname;
    route.search = location.search;
  });
  // Plain <a href="/…"> links navigate inside the app.
  document.addEventListener('click', (ev) => {
    if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
    const a = (ev.target as Element | null)?.closest?.('a');
    if (!a || a.target || a.hasAttribute('download')) return;
    const href = a.getAttribute('href');
    if (!href || !href.startsWith('/') || href.startsWith('//')) return;
    if (/^\/(admin|api|core)\//.test(href)) return;
    ev.preventDefault();
    navigate(href);
  });
}
