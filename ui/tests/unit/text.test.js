import test from 'node:test';
import assert from 'node:assert/strict';
import { curlCommand, requestUrl } from '../../src/lib/curl.js';
import { errorText, loginErrorText, uploadFailureReason, isSilentStatus } from '../../src/lib/errors.js';
import { validateEmail, validatePassword, validateEntityName, validateImageFile, validateConfirm, validatePersonName } from '../../src/lib/validation.js';
import { sortMembers, sortServices, filterContains, truncate } from '../../src/lib/sorting.js';
import { t } from '../../src/lib/i18n.js';

test('curl command: repeated face_plugins, key header, one -F per image', () => {
  assert.equal(requestUrl('http://h:8000/', '/api/v1/detection/detect', ['landmarks', 'age']), 'http://h:8000/api/v1/detection/detect?face_plugins=landmarks&face_plugins=age');
  const c = curlCommand({ origin: 'http://h:8000', path: '/api/v1/verification/verify', plugins: ['pose'], apiKey: 'k-1', files: [['source_image', 'a b.jpg'], ['target_image', 'x"$.png']] });
  assert.equal(c, [
    'curl -X POST "http://h:8000/api/v1/verification/verify?face_plugins=pose"',
    '-H "Content-Type: multipart/form-data"',
    '-H "x-api-key: k-1"',
    '-F "source_image=@a b.jpg"',
    '-F "target_image=@x\\"\\$.png"',
  ].join(' \\\n  '));
});

test('snackbar text: error_description, message, text body, fallback', () => {
  assert.equal(errorText({ error: 'invalid_grant', error_description: 'Bad credentials' }), 'Bad credentials');
  assert.equal(errorText({ message: 'No face is found in the given image', code: 28 }), 'No face is found in the given image');
  assert.equal(errorText('plain failure'), 'plain failure');
  assert.equal(errorText('<html>502</html>'), 'Sorry, something went wrong');
  assert.equal(errorText(null), 'Sorry, something went wrong');
  assert.equal(loginErrorText({ error_description: 'Bad credentials' }), 'E-mail or Password is incorrect.');
  assert.equal(loginErrorText({ code: 4, message: 'x' }), 'This e-mail is already in use.');
  assert.ok(isSilentStatus(502) && isSilentStatus(504) && !isSilentStatus(500));
});

test('upload failure reasons from the API answer', () => {
  assert.equal(uploadFailureReason(400, { code: 28, message: 'No face is found in the given image' }), 'No face found');
  assert.equal(uploadFailureReason(400, { code: 31, message: 'More than one face' }), 'Several faces');
  assert.equal(uploadFailureReason(413, '<html>'), 'Too large');
  assert.equal(uploadFailureReason(400, { code: 21, message: 'File [x] has an unavailable extension' }), 'Not an image');
  assert.equal(uploadFailureReason(500, { code: 41, message: 'core down' }), 'core down');
  assert.equal(uploadFailureReason(500, null), 'HTTP 500');
});

test('validation of e-mails, passwords, names and images', () => {
  assert.equal(validateEmail(' john+x.doe@example.co.uk '), null);
  assert.equal(validateEmail('john@localhost'), 'v_email');
  assert.equal(validateEmail(''), 'v_required');
  assert.equal(validatePassword('1234567'), 'v_password_min');
  assert.equal(validatePassword('12345678'), null);
  assert.equal(validatePassword('x'.repeat(256)), 'v_password_max');
  assert.equal(validateConfirm('a', 'b'), 'v_password_match');
  assert.equal(validatePersonName(' '), 'v_required');
  assert.equal(validatePersonName('x'.repeat(51)), 'v_name_max');
  assert.equal(validateEntityName('a/b'), 'v_name_chars');
  assert.equal(validateEntityName('a;b'), 'v_name_chars');
  assert.equal(validateEntityName('a\\b'), 'v_name_chars');
  assert.equal(validateEntityName('Front door', ['front DOOR']), 'v_name_taken');
  assert.equal(validateEntityName('Front door', ['front door'], 'Front Door'), null);
  assert.equal(validateEntityName('x'.repeat(50)), null);
  assert.equal(validateEntityName('x'.repeat(51)), 'v_name_max');
  assert.equal(validateImageFile({ name: 'a.JPG', size: 10, type: 'image/jpeg' }, 100), null);
  assert.equal(validateImageFile({ name: 'a.txt', size: 10, type: 'text/plain' }, 100), 'v_image_ext');
  assert.equal(validateImageFile({ name: 'a.png', size: 101, type: 'image/png' }, 100), 'v_image_size');
});

test('members and services are sorted as the UI shows them', () => {
  const users = [
    { role: 'USER', firstName: 'zed', lastName: 'A' },
    { role: 'ADMINISTRATOR', firstName: 'Bob', lastName: 'B' },
    { role: 'USER', firstName: 'Amy', lastName: 'C' },
    { role: 'OWNER', firstName: 'Zoe', lastName: 'Z' },
    { role: 'ADMINISTRATOR', firstName: 'alice', lastName: 'A' },
  ];
  assert.deepEqual(sortMembers(users).map((u) => u.firstName), ['Zoe', 'alice', 'Bob', 'Amy', 'zed']);
  const models = [
    { type: 'VERIFY', name: 'a' },
    { type: 'DETECTION', name: 'b' },
    { type: 'RECOGNITION', name: 'z' },
    { type: 'RECOGNITION', name: 'B' },
  ];
  assert.deepEqual(sortServices(models).map((m) => m.name), ['B', 'z', 'b', 'a']);
  assert.deepEqual(filterContains(['Alpha', 'beta', 'GAMMA'], 'A', (s) => s), ['Alpha', 'beta', 'GAMMA']);
  assert.deepEqual(filterContains(['Alpha', 'beta', 'GAMMA'], 'mm', (s) => s), ['GAMMA']);
  assert.equal(truncate('abcdef', 3), 'abc…');
  assert.equal(t('build_version', { version: '1.2.0' }), 'Build version 1.2.0');
});

test('the JSON answer keeps arrays of numbers on one line', async () => {
  const { compactJson } = await import('../../src/lib/curl.js');
  assert.equal(compactJson({ a: [[1, 2], [3.5, -4]], s: ['x'] }), '{\n  "a": [\n    [1, 2],\n    [3.5, -4]\n  ],\n  "s": [\n    "x"\n  ]\n}');
  assert.equal(compactJson(null), 'null');
});
