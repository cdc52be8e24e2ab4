// The admin API (UI.md §5): exactly those paths and payloads.

import { ApiError, del, get, post, put, request } from './http.ts';
import type { AdminStatus, App, Deletion, Me, Model, Role, ServiceType, StatRow, UserRole } from './types.ts';

export const OAUTH_CLIENT = 'Basic Q29tbW9uQ2xpZW50SWQ6cGFzc3dvcmQ=';
const basic = { Authorization: OAUTH_CLIENT };
const e = encodeURIComponent;

export function login(email: string, password: string) {
  const form = new FormData();
  form.append('username', email.trim());
  form.append('password', password.trim());
  form.append('grant_type', 'password');
  return request('POST', '/admin/oauth/token', { form, headers: basic, noAuthRedirect: true });
}
export function refreshToken() {
  const form = new FormData();
  form.append('grant_type', 'refresh_token');
  form.append('scope', 'all');
  return request('POST', '/admin/oauth/token?grant_type=refresh_token&scope=all', { form, headers: basic, noAuthRedirect: true });
}
export const logout = () => request('DELETE', '/admin/oauth/token', { headers: basic, noAuthRedirect: true });

export const status = () => get<AdminStatus>('/admin/status', { noAuthRedirect: true });
export const config = () => get<{ mailServiceEnabled?: boolean }>('/admin/config', { noAuthRedirect: true });
export const demoModel = () => get<{ apiKey: string }>('/admin/user/demo/model', { noAuthRedirect: true });

export interface Registration {
  email: string;
  password: string;
  firstName: string;
  lastName: string;
  isAllowStatistics?: boolean;
}
/** Answers the HTTP status: 201 enabled, 200 waiting for e-mail confirmation. */
export async function register(r: Registration): Promise<number> {
  const res = await fetch('/admin/user/register', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(r),
  });
  if (!res.ok) {
    let body: unknown = null;
    try {
      body = await res.json();
    } catch {
      body = null;
    }
    throw new ApiError(res.status, body);
  }
  return res.status;
}
export const forgotPassword = (email: string) => post('/admin/user/forgot-password', { email }, { noAuthRedirect: true });
export const resetPassword = (token: string, password: string) =>
  put(`/admin/user/reset-password?token=${e(token)}`, { password }, { noAuthRedirect: true });

export const me = () => get<Me>('/admin/user/me');
export const updateProfile = (firstName: string, lastName: string) => put<Me>('/admin/user/update', { firstName, lastName });
export const changePassword = (oldPassword: string, newPassword: string) =>
  put('/admin/user/me/password', { oldPassword, newPassword });
export const setUserPassword = (userId: string, password: string) => put(`/admin/user/${e(userId)}/password`, { password });
export const userRoles = () => get<UserRole[]>('/admin/user/roles');
export const globalAssignRoles = () => get<Role[]>('/admin/user/global/assign-roles');
export const setGlobalRole = (userId: string, role: Role) => put<UserRole>('/admin/user/global/role', { userId, role });
export const deleteUser = (userId: string) => del(`/admin/user/${e(userId)}?replacer=deleter`);

export const apps = () => get<App[]>('/admin/apps');
export const createApp = (name: string) => post<App>('/admin/app', { name });
export const getApp = (id: string) => get<App>(`/admin/app/${e(id)}`);
export const renameApp = (id: string, name: string) => put<App>(`/admin/app/${e(id)}`, { name });
export const deleteApp = (id: string) => del(`/admin/app/${e(id)}`);
export const regenerateAppKey = (id: string) => put<App>(`/admin/app/${e(id)}/apikey`);
export const appMembers = (id: string) => get<UserRole[]>(`/admin/app/${e(id)}/roles`);
export const appAssignRoles = (id: string) => get<Role[]>(`/admin/app/${e(id)}/assign-roles`);
export const invite = (id: string, userEmail: string, role: Role) => post<UserRole>(`/admin/app/${e(id)}/invite`, { userEmail, role });
export const setAppRole = (id: string, userId: string, role: Role) => put<UserRole>(`/admin/app/${e(id)}/role`, { userId, role });
export const removeMember = (id: string, userId: string) => del(`/admin/app/${e(id)}/user/${e(userId)}`);

export const models = (app: string) => get<Model[]>(`/admin/app/${e(app)}/models`);
/** Services and subjects of the application being purged in the background, with their progress. */
export const deletions = (app: string) => get<Deletion[]>(`/admin/app/${e(app)}/deletions`);
export const createModel = (app: string, name: string, type: ServiceType) => post<Model>(`/admin/app/${e(app)}/model`, { name, type });
export const getModel = (app: string, m: string) => get<Model>(`/admin/app/${e(app)}/model/${e(m)}`);
/** A missing field stays as it is; `matchThreshold: null` removes the threshold (recognition services only). */
export interface ModelChange {
  name?: string;
  matchThreshold?: number | null;
}
export const updateModel = (app: string, m: string, change: ModelChange) => put<Model>(`/admin/app/${e(app)}/model/${e(m)}`, change);
export const cloneModel = (app: string, m: string, name: string) => post<Model>(`/admin/app/${e(app)}/model/${e(m)}`, { name });
export const deleteModel = (app: string, m: string) => del(`/admin/app/${e(app)}/model/${e(m)}`);
export const regenerateModelKey = (app: string, m: string) => put<Model>(`/admin/app/${e(app)}/model/${e(m)}/apikey`);
export const statistics = (app: string, m: string) => get<StatRow[]>(`/admin/app/${e(app)}/model/${e(m)}/statistics`);
