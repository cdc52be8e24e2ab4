// What the test page says about each face of an answer. Every plugin field is optional: a face
// without age, gender, pose, landmarks or quality still gets a label.

import { t } from './i18n.js';

/**
 * @typedef {{subject: string, similarity: number, image_id?: string}} SubjectMatch
 * @typedef {{low?: number, high?: number, probability?: number}} Age
 * @typedef {{value?: string, probability?: number}} Gender
 * @typedef {{value?: number, reasons?: string[] | null}} Quality
 * @typedef {{
 *   box: import('./geometry.js').Box,
 *   subjects?: SubjectMatch[] | null,
 *   similarity?: number | null,
 *   age?: Age | null,
 *   gender?: Gender | null,
 *   pose?: {pitch: number, yaw: number, roll: number} | null,
 *   landmarks?: number[][] | null,
 *   quality?: Quality | null,
 *   mask?: unknown,
 * }} Face
 */

/** @param {number | null | undefined} n */
export function fmt2(n) {
  return typeof n === 'number' && Number.isFinite(n) ? n.toFixed(2) : '—';
}

/**
 * The best match of a recognised face (largest similarity), or null.
 * @param {Face} face
 * @returns {SubjectMatch | null}
 */
export function bestMatch(face) {
  const list = Array.isArray(face.subjects) ? face.subjects : [];
  let best = null;
  for (const s of list) {
    if (s && typeof s.similarity === 'number' && (!best || s.similarity > best.similarity)) best = s;
  }
  return best;
}

/**
 * Whether a face is a match at the given threshold. A recognised face whose best similarity is
 * below it, or that has no match at all (the server left out everything below the threshold it
 * was asked with: `subjects` is empty), is "Unknown".
 * @param {number | null | undefined} similarity
 * @param {number} threshold
 */
export function isMatch(similarity, threshold) {
  return typeof similarity === 'number' && similarity >= threshold;
}

/**
 * "Male, Age: 25-32", "Age: 25-32", "Female" or "" when the plugins are absent.
 * @param {Face} face
 */
export function demographics(face) {
  const parts = [];
  const g = face.gender && typeof face.gender.value === 'string' ? face.gender.value : '';
  if (g) parts.push(g.charAt(0).toUpperCase() + g.slice(1).toLowerCase());
  const age = face.age;
  if (age && typeof age.low === 'number' && typeof age.high === 'number') parts.push(`Age: ${age.low}-${age.high}`);
  return parts.join(', ');
}

/**
 * The lines of a face's label.
 * @param {Face} face
 * @param {'RECOGNITION' | 'DETECTION' | 'VERIFY' | 'VERIFY_SOURCE'} kind
 * @param {number} threshold match threshold (recognition and verification)
 * @returns {{title: string, lines: string[], matched: boolean | null}}
 */
export function faceLabel(face, kind, threshold) {
  /** @type {string[]} */
  const lines = [];
  let title = '';
  /** @type {boolean | null} */
  let matched = null;
  if (kind === 'RECOGNITION') {
    const best = bestMatch(face);
    matched = !!best && isMatch(best.similarity, threshold);
    title = matched && best ? best.subject : t('unknown');
    if (best) lines.push(`Similarity: ${fmt2(best.similarity)}`);
  } else if (kind === 'DETECTION') {
    lines.push(`Probability: ${fmt2(face.box?.probability)}`);
  } else if (kind === 'VERIFY') {
    matched = isMatch(face.similarity, threshold);
    lines.push(`Similarity: ${fmt2(face.similarity)}`);
  }
  const demo = demographics(face);
  if (demo) lines.push(demo);
  return { title, lines, matched };
}

/**
 * The first key of core's available_plugins that names a landmarks plugin, else "landmarks".
 * @param {Record<string, unknown> | string[] | null | undefined} plugins
 */
export function landmarksPlugin(plugins) {
  const keys = Array.isArray(plugins) ? plugins : plugins && typeof plugins === 'object' ? Object.keys(plugins) : [];
  return keys.find((k) => k.includes('landmarks')) ?? 'landmarks';
}

/**
 * The face_plugins of a test request; recognition also asks for the quality of each face.
 * @param {string} landmarks
 * @param {boolean} [quality]
 */
export function facePlugins(landmarks, quality = false) {
  return quality ? [landmarks, 'gender', 'age', 'pose', 'quality'] : [landmarks, 'gender', 'age', 'pose'];
}

/** Readable words for the quality plugin's reasons; others are shown as they come. */
const QUALITY_REASONS = /** @type {const} */ ({
  small: 'quality_small',
  blurred: 'quality_blurred',
  dark: 'quality_dark',
  bright: 'quality_bright',
  turned: 'quality_turned',
  uncertain: 'quality_uncertain',
});

/**
 * "Quality: 0.82" or "Quality: 0.31 (small, blurred)", or "" when the face has no quality.
 * @param {Face} face
 */
export function qualityText(face) {
  const q = face.quality;
  if (!q || typeof q.value !== 'number' || !Number.isFinite(q.value)) return '';
  const reasons = (Array.isArray(q.reasons) ? q.reasons : [])
    .filter((r) => typeof r === 'string' && r)
    .map((r) => (Object.hasOwn(QUALITY_REASONS, r) ? t(QUALITY_REASONS[/** @type {keyof typeof QUALITY_REASONS} */ (r)]) : r));
  const value = fmt2(q.value);
  return reasons.length ? t('quality_reasons', { value, reasons: reasons.join(', ') }) : t('quality_value', { value });
}

/**
 * The verdict of a verification: the best similarity among the target's faces against the
 * threshold, in words ("Same person" / "Different people") with both numbers; null when the
 * answer has no similarity.
 * @param {Array<{similarity?: number | null}>} matches the answer's face_matches
 * @param {number} threshold
 * @returns {{same: boolean, verdict: string, detail: string} | null}
 */
export function verifyVerdict(matches, threshold) {
  const sims = (Array.isArray(matches) ? matches : []).map((m) => m?.similarity).filter((s) => typeof s === 'number' && Number.isFinite(s));
  if (!sims.length) return null;
  const best = Math.max(.../** @type {number[]} */ (sims));
  const same = isMatch(best, threshold);
  return {
    same,
    verdict: t(same ? 'verdict_same' : 'verdict_different'),
    detail: t('verdict_detail', { similarity: fmt2(best), threshold: fmt2(threshold) }),
  };
}
