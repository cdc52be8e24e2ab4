import test from 'node:test';
import assert from 'node:assert/strict';
import { canvasSize, scaleBox, scaleLandmarks, poseAxes, rectCenter, landmarkRadius, boxPercent } from '../../src/lib/geometry.js';

test('the canvas is 500 px wide, height by aspect ratio', () => {
  assert.deepEqual(canvasSize(1000, 800), { width: 500, height: 400, scale: 0.5 });
  assert.deepEqual(canvasSize(250, 100), { width: 500, height: 200, scale: 2 });
  assert.equal(canvasSize(0, 0).height, 0);
});

test('boxes and landmarks are scaled from image pixels to canvas pixels', () => {
  const { scale } = canvasSize(2000, 1000);
  assert.deepEqual(scaleBox({ x_min: 100, y_min: 200, x_max: 500, y_max: 700 }, scale), { left: 25, top: 50, width: 100, height: 125 });
  assert.deepEqual(scaleLandmarks([[100, 40], [8, 12]], scale), [[25, 10], [2, 3]]);
  assert.deepEqual(scaleLandmarks(null, scale), []);
  assert.deepEqual(rectCenter({ left: 10, top: 20, width: 100, height: 50 }), { x: 60, y: 45 });
  assert.ok(landmarkRadius({ left: 0, top: 0, width: 200, height: 200 }, 5) > landmarkRadius({ left: 0, top: 0, width: 200, height: 200 }, 106));
});

test('a frontal pose draws x to the right, y down and z as a point', () => {
  const a = poseAxes({ pitch: 0, yaw: 0, roll: 0 }, { x: 100, y: 100 }, 70);
  assert.deepEqual(a.x, { x: 170, y: 100 });
  assert.deepEqual(a.y, { x: 100, y: 170 });
  assert.ok(Math.abs(a.z.x - 100) < 1e-9 && Math.abs(a.z.y - 100) < 1e-9);
  const turned = poseAxes({ pitch: 0, yaw: 90, roll: 0 }, { x: 0, y: 0 }, 10);
  assert.ok(Math.abs(turned.z.x + 10) < 1e-9);
});

test('a stored face box as percentages of its photo, clamped to it', () => {
  assert.deepEqual(boxPercent({ x_min: 100, y_min: 50, x_max: 300, y_max: 250 }, 1000, 500), { left: 10, top: 10, width: 20, height: 40 });
  assert.deepEqual(boxPercent({ x_min: -20, y_min: 0, x_max: 1200, y_max: 500 }, 1000, 500), { left: 0, top: 0, width: 100, height: 100 });
  assert.equal(boxPercent({ x_min: 0, y_min: 0, x_max: 1, y_max: 1 }, 0, 0), null);
});
