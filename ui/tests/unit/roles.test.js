import test from 'node:test';
import assert from 'node:assert/strict';
import * as r from '../../src/lib/roles.js';

test('effective role: global admin roles win, else the app role, else USER', () => {
  assert.equal(r.effectiveRole('OWNER', 'USER'), 'OWNER');
  assert.equal(r.effectiveRole('ADMINISTRATOR', null), 'ADMINISTRATOR');
  assert.equal(r.effectiveRole('USER', 'OWNER'), 'OWNER');
  assert.equal(r.effectiveRole('USER', 'ADMINISTRATOR'), 'ADMINISTRATOR');
  assert.equal(r.effectiveRole('USER', null), 'USER');
  assert.equal(r.effectiveRole(undefined, 'bogus'), 'USER');
});

test('app settings: an app OWNER who is a global USER may rename and delete the app', () => {
  assert.equal(r.canManageApp('USER', 'OWNER'), true);
  assert.equal(r.canManageApp('USER', 'ADMINISTRATOR'), false);
  assert.equal(r.canManageApp('ADMINISTRATOR', 'USER'), true);
  assert.equal(r.canManageApp('USER', 'USER'), false);
});

test('services and collections: app USER read-only, app ADMINISTRATOR may change', () => {
  assert.equal(r.canManageServices('USER', 'USER'), false);
  assert.equal(r.canEditCollection('USER', 'USER'), false);
  assert.equal(r.canEditCollection('USER', 'ADMINISTRATOR'), true);
  assert.equal(r.canEditCollection('OWNER', null), true);
  assert.equal(r.canCreateApp('USER'), false);
  assert.equal(r.canCreateApp('ADMINISTRATOR'), true);
});

test('members: the app owner is never removed nor re-roled; anybody may leave', () => {
  const me = { globalRole: 'USER', appRole: 'USER', meId: 'me' };
  assert.equal(r.canRemoveMember(me, { userId: 'me', role: 'USER' }), true);
  assert.equal(r.canRemoveMember(me, { userId: 'x', role: 'USER' }), false);
  assert.equal(r.canChangeMemberRole(me, { userId: 'x', role: 'USER' }), false);
  const owner = { globalRole: 'USER', appRole: 'OWNER', meId: 'me' };
  assert.equal(r.canRemoveMember(owner, { userId: 'x', role: 'ADMINISTRATOR' }), true);
  assert.equal(r.canRemoveMember(owner, { userId: 'me', role: 'OWNER' }), false);
  assert.equal(r.canChangeMemberRole(owner, { userId: 'x', role: 'USER' }), true);
  const admin = { globalRole: 'ADMINISTRATOR', appRole: null, meId: 'me' };
  assert.equal(r.canChangeMemberRole(admin, { userId: 'o', role: 'OWNER' }), false);
  assert.equal(r.canRemoveMember(admin, { userId: 'o', role: 'OWNER' }), false);
});

test('global users: role changes, deletion and password setting', () => {
  assert.equal(r.canChangeGlobalRole('OWNER', 'me', { userId: 'me', role: 'OWNER' }), false);
  assert.equal(r.canChangeGlobalRole('ADMINISTRATOR', 'me', { userId: 'o', role: 'OWNER' }), false);
  assert.equal(r.canChangeGlobalRole('ADMINISTRATOR', 'me', { userId: 'u', role: 'USER' }), true);
  assert.equal(r.canChangeGlobalRole('USER', 'me', { userId: 'u', role: 'USER' }), false);

  assert.equal(r.canDeleteUser('USER', 'me', { userId: 'me', role: 'USER' }), true);
  assert.equal(r.canDeleteUser('OWNER', 'me', { userId: 'me', role: 'OWNER' }), false);
  assert.equal(r.canDeleteUser('USER', 'me', { userId: 'u', role: 'USER' }), false);
  assert.equal(r.canDeleteUser('ADMINISTRATOR', 'me', { userId: 'o', role: 'OWNER' }), false);
  assert.equal(r.canDeleteUser('ADMINISTRATOR', 'me', { userId: 'u', role: 'ADMINISTRATOR' }), true);

  assert.equal(r.canSetUserPassword('OWNER', 'me', { userId: 'u', role: 'USER' }), true);
  assert.equal(r.canSetUserPassword('ADMINISTRATOR', 'me', { userId: 'o', role: 'OWNER' }), false);
  assert.equal(r.canSetUserPassword('OWNER', 'me', { userId: 'me', role: 'OWNER' }), false);
  assert.equal(r.canSetUserPassword('USER', 'me', { userId: 'u', role: 'USER' }), false);

  assert.deepEqual(r.assignableGlobalRoles('ADMINISTRATOR', ['OWNER', 'ADMINISTRATOR', 'USER']), ['ADMINISTRATOR', 'USER']);
  assert.deepEqual(r.assignableGlobalRoles('OWNER', ['OWNER', 'ADMINISTRATOR', 'USER']), ['OWNER', 'ADMINISTRATOR', 'USER']);
  assert.deepEqual(r.assignableGlobalRoles('OWNER', []), ['OWNER', 'ADMINISTRATOR', 'USER']);
  assert.equal(r.canSeeEmails('USER'), false);
  assert.equal(r.canSeeEmails('OWNER'), true);
});
