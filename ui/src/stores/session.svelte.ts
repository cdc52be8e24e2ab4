// What the whole UI knows: the health of the three nodes, the logged-in user and their global
// role, the applications, and the configuration read once.

import * as admin from '../api/admin.ts';
import * as pub from '../api/public.ts';
import { ApiError, setHttpHooks } from '../api/http.ts';
import type { App, Me, Role } from '../api/types.ts';
import { landmarksPlugin } from '../lib/faces.js';
import { here, navigate, route } from './router.svelte.ts';

export type NodeState = 'loading' | 'ok' | 'error';
export interface NodeHealth {
  state: NodeState;
  reason: string;
}

export const health = $state({
  admin: { state: 'loading', reason: '' } as NodeHealth,
  api: { state: 'loading', reason: '' } as NodeHealth,
  core: { state: 'loading', reason: '' } as NodeHealth,
  ready: false,
  demoKeysActive: false,
});

export const session = $state({
  me: null as Me | null,
  globalRole: null as Role | null,
  apps: null as App[] | null,
  maxFileSize: 5 * 1024 * 1024,
  maxBodySize: 10 * 1024 * 1024,
  mailServiceEnabled: false,
  landmarks: 'landmarks',
  coreVersion: '',
  /** The demo key was available when the login or sign-up page opened (first run). */
  demoAvailable: false,
  demoApiKey: '',
  /** Shown by "Try Demo": the demo key works and its collection matches our models. */
  demoUsable: false,
});

const BARE = new Set(['/login', '/sign-up', '/sign-up/confirm', '/reset-password', '/demo']);
export const isBareRoute = (path: string) => BARE.has(path);

// ---- start-up checks (UI.md §1) ----
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let checking = false;

async function checkNode(key: 'admin' | 'api' | 'core', call: () => Promise<{ status?: string } & Record<string, unknown>>) {
  const node = health[key];
  node.state = 'loading';
  node.reason = '';
  await sleep(1000);
  for (;;) {
    try {
      const body = await call();
      if (body && body.status === 'OK') {
        node.state = 'ok';
        node.reason = '';
        if (key === 'admin') health.demoKeysActive = body.demoKeysActive === true;
        if (key === 'core') {
          session.landmarks = landmarksPlugin(body.available_plugins as Record<string, unknown> | undefined);
          session.coreVersion = typeof body.build_version === 'string' ? body.build_version : '';
        }
        return;
      }
      node.state = 'loading';
      node.reason = `status ${String(body?.status ?? 'unknown')}`;
      await sleep(1000);
    } catch (e) {
      node.state = 'error';
      node.reason = e instanceof ApiError ? (e.status ? `HTTP ${e.status}` : e.message) : 'unreachable';
      await sleep(10000);
    }
  }
}

export async function runHealthChecks(): Promise<void> {
  if (checking) return;
  checking = true;
  health.ready = false;
  try {
    await Promise.all([
      checkNode('admin', () => admin.status() as Promise<Record<string, unknown>>),
      checkNode('api', () => pub.consistence() as Promise<Record<string, unknown>>),
      checkNode('core', () => pub.coreStatus() as Promise<Record<string, unknown>>),
    ]);
    health.ready = true;
  } finally {
    checking = false;
  }
}

/** Re-reads the demo-key flag (after a key was regenerated). */
export async function refreshAdminStatus(): Promise<void> {
  try {
    const s = await admin.status();
    health.demoKeysActive = s.demoKeysActive === true;
  } catch {
    /* the banner keeps its state */
  }
}

// ---- the user ----
let refreshTimer: ReturnType<typeof setInterval> | null = null;

export function goToLogin(): void {
  if (isBareRoute(route.path)) return;
  const redirect = here();
  clearUser();
  navigate(`/login?redirect=${encodeURIComponent(redirect)}`, true);
}

export function clearUser(): void {
  session.me = null;
  session.globalRole = null;
  session.apps = null;
  if (refreshTimer) clearInterval(refreshTimer);
  refreshTimer = null;
}

setHttpHooks({
  unauthorized: goToLogin,
  badGateway: () => {
    if (session.me) void runHealthChecks();
    else if (!isBareRoute(route.path)) navigate('/login', true);
  },
});

/** Loads the user once per login; the promise is shared by concurrent callers. */
let loading: Promise<Me | null> | null = null;
export function ensureUser(): Promise<Me | null> {
  if (session.me) return Promise.resolve(session.me);
  if (!loading) {
    loading = (async () => {
      try {
        const me = await admin.me();
        session.me = me;
        await Promise.all([loadGlobalRole(), loadConfig()]);
        startRefresh();
        return me;
      } catch (e) {
        if (!(e instanceof ApiError && e.status === 401)) throw e;
        return null;
      } finally {
        loading = null;
      }
    })();
  }
  return loading;
}

export async function loadGlobalRole(): Promise<void> {
  const users = await admin.userRoles();
  const mine = users.find((u) => u.userId === session.me?.userId);
  session.globalRole = mine?.role ?? 'USER';
}

async function loadConfig(): Promise<void> {
  const [cfg, adm] = await Promise.allSettled([pub.apiConfig(), admin.config()]);
  if (cfg.status === 'fulfilled' && cfg.value) {
    if (cfg.value.clientMaxFileSize) session.maxFileSize = cfg.value.clientMaxFileSize;
    if (cfg.value.clientMaxBodySize) session.maxBodySize = cfg.value.clientMaxBodySize;
  }
  if (adm.status === 'fulfilled' && adm.value) session.mailServiceEnabled = adm.value.mailServiceEnabled === true;
}

function startRefresh(): void {
  if (refreshTimer) clearInterval(refreshTimer);
  refreshTimer = setInterval(() => {
    admin.refreshToken().catch(() => {
      /* the next admin call answers 401 and sends the user to the login page */
    });
  }, 5 * 60 * 1000);
}

export async function loadApps(force = false): Promise<App[]> {
  if (session.apps && !force) return session.apps;
  const list = await admin.apps();
  session.apps = list;
  return list;
}

export function appRole(appId: string): Role | null {
  return session.apps?.find((a) => a.id === appId)?.role ?? null;
}

/** On the login and sign-up pages: is this the first run (demo user still there)? */
export async function checkDemo(): Promise<void> {
  let consistent = false;
  try {
    const c = await pub.consistence();
    consistent = c.demoFaceCollectionIsInconsistent === false;
  } catch {
    consistent = false;
  }
  try {
    const d = await admin.demoModel();
    session.demoAvailable = !!d?.apiKey;
    session.demoApiKey = d?.apiKey ?? '';
  } catch {
    session.demoAvailable = false;
    session.demoApiKey = '';
  }
  session.demoUsable = session.demoAvailable && consistent;
}

export async function doLogout(): Promise<void> {
  try {
    await admin.logout();
  } catch {
    /* cookies are cleared by the server when it can; leave anyway */
  }
  clearUser();
  navigate('/login');
}
