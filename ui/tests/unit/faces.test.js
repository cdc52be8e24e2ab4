import test from 'node:test';
import assert from 'node:assert/strict';
import { faceLabel, bestMatch, demographics, landmarksPlugin, facePlugins } from '../../src/lib/faces.js';

const box = { x_min: 1, y_min: 2, x_max: 3, y_max: 4, probability: 0.98765 };

test('recognition label: subject and similarity, or Unknown below the threshold', () => {
  const face = { box, subjects: [{ subject: 'bob', similarity: 0.7 }, { subject: 'alice', similarity: 0.93 }] };
  assert.deepEqual(bestMatch(face), { subject: 'alice', similarity: 0.93 });
  assert.deepEqual(faceLabel(face, 'RECOGNITION', 0.5), { title: 'alice', lines: ['Similarity: 0.93'], matched: true });
  assert.deepEqual(faceLabel(face, 'RECOGNITION', 0.95), { title: 'Unknown', lines: ['Similarity: 0.93'], matched: false });
  assert.deepEqual(faceLabel({ box, subjects: [] }, 'RECOGNITION', 0), { title: 'Unknown', lines: [], matched: false });
});

test('detection label: probability; demographics only when present', () => {
  assert.deepEqual(faceLabel({ box }, 'DETECTION', 0).lines, ['Probability: 0.99']);
  const full = { box, gender: { value: 'male', probability: 0.9 }, age: { low: 25, high: 32, probability: 0.8 } };
  assert.deepEqual(faceLabel(full, 'DETECTION', 0).lines, ['Probability: 0.99', 'Male, Age: 25-32']);
  assert.equal(demographics({ box, gender: null, age: { low: 4 } }), '');
  assert.equal(demographics({ box, gender: { value: 'FEMALE' } }), 'Female');
});

test('verification label uses the face similarity', () => {
  assert.deepEqual(faceLabel({ box, similarity: 0.41 }, 'VERIFY', 0.5), { title: '', lines: ['Similarity: 0.41'], matched: false });
  assert.deepEqual(faceLabel({ box }, 'VERIFY_SOURCE', 0.5).lines, []);
});

test('landmarks plugin: first key containing "landmarks"', () => {
  assert.equal(landmarksPlugin({ age: 'x', landmarks2d106: 'y', landmarks: 'z' }), 'landmarks2d106');
  assert.equal(landmarksPlugin({ age: 'x' }), 'landmarks');
  assert.equal(landmarksPlugin(null), 'landmarks');
  assert.deepEqual(facePlugins('landmarks'), ['landmarks', 'gender', 'age', 'pose']);
});
