import test from 'node:test';
import assert from 'node:assert/strict';
import { testFailureText, tooLargeText } from '../../src/lib/errors.js';
import { verifyVerdict } from '../../src/lib/faces.js';

const MB5 = 5 * 1024 * 1024;

test('test page failures: refused files and failed requests in a few words', () => {
  assert.equal(testFailureText({ status: 400, body: { code: 28, message: 'No face is found in the given image' }, maxBytes: MB5 }), 'No face found');
  assert.equal(testFailureText({ status: 400, body: { code: 21, message: 'File [a.txt] has an unavailable extension' }, maxBytes: MB5 }), 'Not an image');
  assert.equal(testFailureText({ invalid: 'v_image_ext', maxBytes: MB5 }), 'Not an image');
  assert.equal(testFailureText({ invalid: 'v_image_size', maxBytes: MB5 }), 'Larger than 5 MB: the limit');
  assert.equal(testFailureText({ status: 413, body: '<html>413</html>', maxBytes: 2.5 * 1024 * 1024 }), 'Larger than 2.5 MB: the limit');
  assert.equal(testFailureText({ invalid: 'v_body_size', maxBytes: MB5 }), 'The two images together are too big');
  assert.equal(testFailureText({ status: 0, body: { message: 'The server cannot be reached' }, maxBytes: MB5 }), 'Network error');
  assert.equal(testFailureText({ status: 500, body: { code: 41, message: 'core is down' }, maxBytes: MB5 }), 'core is down');
  assert.equal(tooLargeText(10 * 1024 * 1024), 'Larger than 10 MB: the limit');
});

test('verification verdict: best similarity against the threshold, in words', () => {
  assert.deepEqual(verifyVerdict([{ similarity: 0.03 }], 0.5), { same: false, verdict: 'Different people', detail: 'Similarity 0.03, threshold 0.50' });
  assert.deepEqual(verifyVerdict([{ similarity: 0.2 }, { similarity: 0.97 }], 0.8), { same: true, verdict: 'Same person', detail: 'Similarity 0.97, threshold 0.80' });
  assert.equal(verifyVerdict([{ similarity: 0.5 }], 0.5)?.same, true, 'at the threshold is a match');
  assert.equal(verifyVerdict([], 0.5), null);
  assert.equal(verifyVerdict([{}], 0.5), null);
});
