// Role gates. Every visible control that changes something asks one of these functions, so the
// rules of the admin API (who may do what) live in one place.

import { t } from './i18n.js';

/** @typedef {'OWNER' | 'ADMINISTRATOR' | 'USER'} Role */

export const ROLES = /** @type {const} */ (['OWNER', 'ADMINISTRATOR', 'USER']);

/**
 * How a role reads on screen: "Owner", "Administrator", "User"; an unknown role as it comes.
 * @param {string | null | undefined} role
 */
export function roleLabel(role) {
  return role === 'OWNER' || role === 'ADMINISTRATOR' || role === 'USER' ? t(`role_${role}`) : (role ?? '');
}

/** @param {string | null | undefined} role @returns {role is 'OWNER' | 'ADMINISTRATOR'} */
export function isAdminRole(role) {
  return role === 'OWNER' || role === 'ADMINISTRATOR';
}

/**
 * The role that decides what a user may do inside one application: the global role when it is
 * OWNER or ADMINISTRATOR, else the role in the application (USER when there is none).
 * @param {string | null | undefined} globalRole
 * @param {string | null | undefined} appRole
 * @returns {Role}
 */
export function effectiveRole(globalRole, appRole) {
  if (isAdminRole(globalRole)) return globalRole;
  if (appRole === 'OWNER' || appRole === 'ADMINISTRATOR' || appRole === 'USER') return appRole;
  return 'USER';
}

/** Create applications: global OWNER / ADMINISTRATOR only. @param {string | null | undefined} globalRole */
export function canCreateApp(globalRole) {
  return isAdminRole(globalRole);
}

/**
 * Rename or delete an application, invite members, change their roles, regenerate the app key:
 * global OWNER / ADMINISTRATOR, or the application's OWNER (whatever their global role).
 * @param {string | null | undefined} globalRole
 * @param {string | null | undefined} appRole
 */
export function canManageApp(globalRole, appRole) {
  return isAdminRole(globalRole) || appRole === 'OWNER';
}

/**
 * Create, clone, rename, delete services and regenerate their keys; change a face collection.
 * @param {string | null | undefined} globalRole
 * @param {string | null | undefined} appRole
 */
export function canManageServices(globalRole, appRole) {
  return effectiveRole(globalRole, appRole) !== 'USER';
}

/** An app USER can look at a collection but not change it. Same rule as services. */
export const canEditCollection = canManageServices;

/**
 * Change the app role of a member.
 * @param {{globalRole: string | null | undefined, appRole: string | null | undefined, meId: string}} me
 * @param {{userId: string, role: string}} target
 */
export function canChangeMemberRole(me, target) {
  if (target.role === 'OWNER') return false;
  if (target.userId === me.meId) return false;
  return canManageApp(me.globalRole, me.appRole);
}

/**
 * Remove a member from an application. Never the app owner; global admins and the app owner may
 * remove others; everybody may leave.
 * @param {{globalRole: string | null | undefined, appRole: string | null | undefined, meId: string}} me
 * @param {{userId: string, role: string}} target
 */
export function canRemoveMember(me, target) {
  if (target.role === 'OWNER') return false;
  if (target.userId === me.meId) return true;
  return canManageApp(me.globalRole, me.appRole);
}

/**
 * Change a user's global role: admins only, never one's own role nor the owner's.
 * @param {string | null | undefined} myRole
 * @param {string} meId
 * @param {{userId: string, role: string}} target
 */
export function canChangeGlobalRole(myRole, meId, target) {
  return isAdminRole(myRole) && target.userId !== meId && target.role !== 'OWNER';
}

/**
 * Delete a user: (target is not the owner and I am not a USER) or (target is me and I am not the owner).
 * @param {string | null | undefined} myRole
 * @param {string} meId
 * @param {{userId: string, role: string}} target
 */
export function canDeleteUser(myRole, meId, target) {
  if (target.userId === meId) return myRole !== 'OWNER';
  return target.role !== 'OWNER' && myRole !== 'USER' && isAdminRole(myRole);
}

/**
 * Set another user's password: global admins, for anybody but themselves (they use "Change
 * password") and, for an ADMINISTRATOR, not the owner.
 * @param {string | null | undefined} myRole
 * @param {string} meId
 * @param {{userId: string, role: string}} target
 */
export function canSetUserPassword(myRole, meId, target) {
  if (!isAdminRole(myRole) || target.userId === meId) return false;
  return myRole === 'OWNER' || target.role !== 'OWNER';
}

/**
 * Roles that may be offered for a global role change, from the server's assignable list, narrowed
 * for safety: an ADMINISTRATOR never offers OWNER.
 * @param {string | null | undefined} myRole
 * @param {string[] | null | undefined} assignable
 * @returns {string[]}
 */
export function assignableGlobalRoles(myRole, assignable) {
  const list = assignable && assignable.length ? assignable : myRole === 'OWNER' ? [...ROLES] : ['ADMINISTRATOR', 'USER'];
  return myRole === 'OWNER' ? list : list.filter((r) => r !== 'OWNER');
}

/** E-mail addresses of other users are shown to global admins only. @param {string | null | undefined} globalRole */
export function canSeeEmails(globalRole) {
  return isAdminRole(globalRole);
}
