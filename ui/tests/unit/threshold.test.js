import test from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_MATCH_THRESHOLD,
  hasThresholdSetting,
  initialThreshold,
  needsNewRequest,
  serviceChange,
  thresholdSummary,
  validateThreshold,
} from '../../src/lib/threshold.js';
import { qualityText, facePlugins, faceLabel } from '../../src/lib/faces.js';
import { curlCommand, requestUrl, testQuery } from '../../src/lib/curl.js';

test('the services list says a recognition service threshold, or that it has none', () => {
  assert.equal(thresholdSummary({ type: 'RECOGNITION', matchThreshold: 0.5 }), 'threshold 0.50');
  assert.equal(thresholdSummary({ type: 'RECOGNITION', matchThreshold: 0.737 }), 'threshold 0.74');
  assert.equal(thresholdSummary({ type: 'RECOGNITION', matchThreshold: 0 }), 'threshold 0.00');
  assert.equal(thresholdSummary({ type: 'RECOGNITION', matchThreshold: null }), 'no threshold');
  assert.equal(thresholdSummary({ type: 'RECOGNITION' }), '', 'a server that does not report it');
  assert.equal(thresholdSummary({ type: 'DETECTION' }), '');
  assert.equal(thresholdSummary({ type: 'VERIFY', matchThreshold: 0.5 }), '');
  assert.ok(hasThresholdSetting({ type: 'RECOGNITION', matchThreshold: null }));
  assert.ok(!hasThresholdSetting({ type: 'RECOGNITION' }));
  assert.ok(!hasThresholdSetting({ type: 'DETECTION', matchThreshold: 0.5 }));
});

test('the test page slider starts at the service threshold, else the default', () => {
  assert.equal(DEFAULT_MATCH_THRESHOLD, 0.5);
  assert.equal(initialThreshold(0.62), 0.62);
  assert.equal(initialThreshold(0), 0);
  assert.equal(initialThreshold(null), 0.5);
  assert.equal(initialThreshold(undefined), 0.5);
  assert.equal(initialThreshold(1.5), 0.5);
  assert.equal(initialThreshold(Number.NaN), 0.5);
});

test('a threshold typed in the dialog is a number from 0 to 1', () => {
  for (const ok of [0, 1, 0.5, 0.555, '0.3']) assert.equal(validateThreshold(ok), null, String(ok));
  for (const empty of [null, undefined, '']) assert.equal(validateThreshold(empty), 'v_required');
  for (const bad of [-0.01, 1.01, Number.NaN, Infinity, 'high']) assert.equal(validateThreshold(bad), 'v_threshold', String(bad));
});

test('the service change sends only what changed', () => {
  const m = { name: 'Staff', matchThreshold: 0.5 };
  assert.equal(serviceChange(m, 'Staff', 0.5), null);
  assert.deepEqual(serviceChange(m, 'Staff', 0.6), { matchThreshold: 0.6 });
  assert.deepEqual(serviceChange(m, 'Staff', null), { matchThreshold: null }, 'null clears it');
  assert.deepEqual(serviceChange(m, 'Crew', 0.5), { name: 'Crew' });
  assert.deepEqual(serviceChange(m, 'Crew', 0), { name: 'Crew', matchThreshold: 0 });
  assert.deepEqual(serviceChange({ name: 'x', matchThreshold: null }, 'x', 0.5), { matchThreshold: 0.5 });
  assert.deepEqual(serviceChange({ name: 'Gate' }, 'Door', undefined), { name: 'Door' }, 'no threshold setting offered');
  assert.equal(serviceChange({ name: 'Gate' }, 'Gate', undefined), null);
});

test('lowering the slider below the threshold of the answer asks again; raising it does not', () => {
  assert.equal(needsNewRequest(null, 0), false, 'no answer yet');
  assert.equal(needsNewRequest(0.5, 0.5), false);
  assert.equal(needsNewRequest(0.5, 0.9), false);
  assert.equal(needsNewRequest(0.5, 0.49), true);
  assert.equal(needsNewRequest(0, 0), false);
});

test('recognition asks for the quality and sends similarity_threshold', () => {
  assert.deepEqual(facePlugins('landmarks2d106', true), ['landmarks2d106', 'gender', 'age', 'pose', 'quality']);
  assert.equal(testQuery(['age', 'quality'], [['similarity_threshold', '0.5']]), 'face_plugins=age&face_plugins=quality&similarity_threshold=0.5');
  assert.equal(testQuery([]), '');
  assert.equal(requestUrl('http://h', '/p', [], [['a b', '1&2']]), 'http://h/p?a%20b=1%262');
  const c = curlCommand({ origin: 'http://h', path: '/api/v1/recognition/recognize', plugins: ['quality'], params: [['similarity_threshold', '0.62']], apiKey: 'k', files: [['file', 'a.jpg']] });
  assert.match(c, /^curl -X POST "http:\/\/h\/api\/v1\/recognition\/recognize\?face_plugins=quality&similarity_threshold=0\.62"/);
});

test('quality: the value and readable reasons, nothing without the plugin', () => {
  const box = { x_min: 0, y_min: 0, x_max: 1, y_max: 1, probability: 1 };
  assert.equal(qualityText({ box, quality: { value: 0.8234, reasons: [] } }), 'Quality: 0.82');
  assert.equal(qualityText({ box, quality: { value: 0.31, reasons: ['small', 'blurred'] } }), 'Quality: 0.31 (small, blurred)');
  assert.equal(qualityText({ box, quality: { value: 0.2, reasons: ['bright', 'turned', 'uncertain', 'dark'] } }), 'Quality: 0.20 (too bright, turned away, uncertain detection, dark)');
  assert.equal(qualityText({ box, quality: { value: 0.4, reasons: ['occluded'] } }), 'Quality: 0.40 (occluded)', 'a reason the UI does not know is shown as it comes');
  assert.equal(qualityText({ box, quality: { value: 0.9 } }), 'Quality: 0.90');
  assert.equal(qualityText({ box, quality: { value: 0.4, reasons: ['constructor'] } }), 'Quality: 0.40 (constructor)');
  assert.equal(qualityText({ box }), '');
  assert.equal(qualityText({ box, quality: null }), '');
});

test('a face the server left without subjects is Unknown', () => {
  const box = { x_min: 0, y_min: 0, x_max: 1, y_max: 1 };
  assert.deepEqual(faceLabel({ box, subjects: [] }, 'RECOGNITION', 0), { title: 'Unknown', lines: [], matched: false });
  assert.deepEqual(faceLabel({ box, subjects: null }, 'RECOGNITION', 0.5), { title: 'Unknown', lines: [], matched: false });
});
