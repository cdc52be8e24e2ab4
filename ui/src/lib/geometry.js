// Drawing faces over an image shown on a canvas of fixed width.

export const CANVAS_WIDTH = 500;

/**
 * @typedef {{x_min: number, y_min: number, x_max: number, y_max: number, probability?: number}} Box
 * @typedef {{left: number, top: number, width: number, height: number}} Rect
 */

/**
 * Size of the canvas for an image: 500 px wide, height by aspect ratio, and the factor that maps
 * image pixels to canvas pixels.
 * @param {number} naturalWidth
 * @param {number} naturalHeight
 * @param {number} [width]
 */
export function canvasSize(naturalWidth, naturalHeight, width = CANVAS_WIDTH) {
  if (!(naturalWidth > 0) || !(naturalHeight > 0)) return { width, height: 0, scale: 0 };
  const scale = width / naturalWidth;
  return { width, height: Math.round(naturalHeight * scale), scale };
}

/** @param {Box} box @param {number} scale @returns {Rect} */
export function scaleBox(box, scale) {
  return {
    left: box.x_min * scale,
    top: box.y_min * scale,
    width: (box.x_max - box.x_min) * scale,
    height: (box.y_max - box.y_min) * scale,
  };
}

/**
 * @param {ReadonlyArray<readonly number[]> | null | undefined} landmarks
 * @param {number} scale
 * @returns {Array<[number, number]>}
 */
export function scaleLandmarks(landmarks, scale) {
  if (!Array.isArray(landmarks)) return [];
  return landmarks.filter((p) => Array.isArray(p) && p.length >= 2).map((p) => [p[0] * scale, p[1] * scale]);
}

/**
 * Radius of a landmark dot: larger for large faces, smaller for dense (106-point) sets.
 * @param {Rect} rect @param {number} count
 */
export function landmarkRadius(rect, count) {
  const base = Math.max(1.5, Math.min(4, rect.width / 60));
  return count > 20 ? Math.max(1, base / 2) : base;
}

/**
 * End points of the three head-pose axes (x red, y green, z blue) drawn from `center`, the usual
 * projection of pitch / yaw / roll given in degrees.
 * @param {{pitch: number, yaw: number, roll: number}} pose
 * @param {{x: number, y: number}} center
 * @param {number} [size]
 */
export function poseAxes(pose, center, size = 70) {
  const p = (pose.pitch * Math.PI) / 180;
  const y = (-pose.yaw * Math.PI) / 180;
  const r = (pose.roll * Math.PI) / 180;
  return {
    x: { x: center.x + size * Math.cos(y) * Math.cos(r), y: center.y + size * (Math.cos(p) * Math.sin(r) + Math.cos(r) * Math.sin(p) * Math.sin(y)) },
    y: { x: center.x - size * Math.cos(y) * Math.sin(r), y: center.y + size * (Math.cos(p) * Math.cos(r) - Math.sin(p) * Math.sin(y) * Math.sin(r)) },
    z: { x: center.x + size * Math.sin(y), y: center.y - size * Math.cos(y) * Math.sin(p) },
  };
}

/** @param {Rect} rect */
export function rectCenter(rect) {
  return { x: rect.left + rect.width / 2, y: rect.top + rect.height / 2 };
}

/**
 * A face box in image pixels as percentages of the image (left, top, width, height), clamped to
 * the image: what positions a box drawn over a picture shown at any size.
 * @param {{x_min: number, y_min: number, x_max: number, y_max: number}} box
 * @param {number} width natural width of the image
 * @param {number} height natural height of the image
 */
export function boxPercent(box, width, height) {
  if (!(width > 0 && height > 0)) return null;
  const clamp = (/** @type {number} */ v, /** @type {number} */ max) => Math.min(max, Math.max(0, v));
  const x0 = clamp(box.x_min, width);
  const x1 = clamp(box.x_max, width);
  const y0 = clamp(box.y_min, height);
  const y1 = clamp(box.y_max, height);
  const pct = (/** @type {number} */ v, /** @type {number} */ of) => Math.round((v / of) * 10000) / 100;
  return { left: pct(x0, width), top: pct(y0, height), width: pct(x1 - x0, width), height: pct(y1 - y0, height) };
}
