import test from 'node:test';
import assert from 'node:assert/strict';
import { originParts, serviceSnippet, SNIPPET_LANGUAGES } from '../../src/lib/snippets.js';
import { roleLabel } from '../../src/lib/roles.js';

const KEY = '1f0e5c4a-0000-4000-8000-00000000abcd';
const origin = 'http://faces.example.com:8000';

test('the SDK address: DOMAIN with the scheme, PORT or the default one', () => {
  assert.deepEqual(originParts('http://localhost:8000'), { domain: 'http://localhost', port: '8000' });
  assert.deepEqual(originParts('https://faces.example.com'), { domain: 'https://faces.example.com', port: '443' });
  assert.deepEqual(originParts('http://[::1]:8000'), { domain: 'http://[::1]', port: '8000' });
});

test('every snippet carries the key and this server; each type calls its own endpoints', () => {
  for (const type of /** @type {const} */ (['RECOGNITION', 'DETECTION', 'VERIFY'])) {
    for (const lang of SNIPPET_LANGUAGES) {
      const s = serviceSnippet(lang, { type, origin, apiKey: KEY });
      assert.ok(s.includes(KEY), `${type} ${lang} has the key`);
      assert.ok(s.includes(lang === 'python' ? '"http://faces.example.com", "8000"' : 'http://faces.example.com:8000'), `${type} ${lang} has the server`);
    }
  }
  const curl = serviceSnippet('curl', { type: 'RECOGNITION', origin, apiKey: KEY });
  assert.match(curl, /curl -X POST "http:\/\/faces\.example\.com:8000\/api\/v1\/recognition\/faces\?subject=Alice"/);
  assert.match(curl, /curl -X POST "http:\/\/faces\.example\.com:8000\/api\/v1\/recognition\/recognize" \\\n {2}-H "Content-Type: multipart\/form-data" \\\n {2}-H "x-api-key: 1f0e5c4a-0000-4000-8000-00000000abcd" \\\n {2}-F "file=@photo\.jpg"/);
  const py = serviceSnippet('python', { type: 'RECOGNITION', origin, apiKey: KEY });
  assert.match(py, /^# pip install compreface-sdk\nfrom compreface import CompreFace\n/);
  assert.match(py, /recognition = compre_face\.init_face_recognition\("1f0e5c4a-0000-4000-8000-00000000abcd"\)/);
  assert.match(py, /get_face_collection\(\)\.add\(image_path='alice\.jpg', subject='Alice'\)/);
  assert.match(serviceSnippet('python', { type: 'DETECTION', origin, apiKey: KEY }), /init_face_detection\(.*\)[\s\S]*detection\.detect\(image_path='photo\.jpg'\)/);
  assert.match(serviceSnippet('python', { type: 'VERIFY', origin, apiKey: KEY }), /init_face_verification\(.*\)[\s\S]*verification\.verify\('first\.jpg', 'second\.jpg'\)/);
  const js = serviceSnippet('javascript', { type: 'VERIFY', origin, apiKey: KEY });
  assert.match(js, /headers: \{ 'x-api-key': apiKey \}/);
  assert.match(js, /pair\.append\('source_image', first\);\npair\.append\('target_image', second\);\nconsole\.log\(await call\('\/api\/v1\/verification\/verify', pair\)\);$/);
  assert.match(serviceSnippet('curl', { type: 'DETECTION', origin, apiKey: KEY }), /detection\/detect\?face_plugins=age&face_plugins=gender"/);
  assert.match(serviceSnippet('curl', { type: 'VERIFY', origin, apiKey: KEY }), /-F "source_image=@first\.jpg" \\\n {2}-F "target_image=@second\.jpg"$/);
});

test('roles read as words', () => {
  assert.equal(roleLabel('OWNER'), 'Owner');
  assert.equal(roleLabel('ADMINISTRATOR'), 'Administrator');
  assert.equal(roleLabel('USER'), 'User');
  assert.equal(roleLabel('AUDITOR'), 'AUDITOR');
  assert.equal(roleLabel(null), '');
});
