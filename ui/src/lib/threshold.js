// A recognition service's match threshold: recognitions leave out stored faces less similar than
// it, so a face with no match left is "Unknown"; `null` means none (CompreFace's answers, every
// nearest face whatever its similarity). Detection and verification services have none
// (`matchThreshold` absent).

import { t } from './i18n.js';

/** What a new recognition service gets, and the test page's slider when a service has none. */
export const DEFAULT_MATCH_THRESHOLD = 0.5;

/**
 * "threshold 0.50", "no threshold", or "" for a service without one (not recognition, or a
 * server that does not report it).
 * @param {{type: string, matchThreshold?: number | null}} model
 */
export function thresholdSummary(model) {
  if (model.type !== 'RECOGNITION' || model.matchThreshold === undefined) return '';
  if (model.matchThreshold === null) return t('no_threshold');
  return t('threshold_value', { value: model.matchThreshold.toFixed(2) });
}

/**
 * Whether the service dialog offers the threshold: recognition services whose answer has the field.
 * @param {{type: string, matchThreshold?: number | null}} model
 */
export function hasThresholdSetting(model) {
  return model.type === 'RECOGNITION' && model.matchThreshold !== undefined;
}

/**
 * The test page's slider at the start: the service's threshold, else the default.
 * @param {number | null | undefined} matchThreshold
 */
export function initialThreshold(matchThreshold) {
  return typeof matchThreshold === 'number' && matchThreshold >= 0 && matchThreshold <= 1 ? matchThreshold : DEFAULT_MATCH_THRESHOLD;
}

/**
 * A threshold typed in the service dialog: a number in [0, 1].
 * @param {number | string | null | undefined} value
 * @returns {'v_required' | 'v_threshold' | null}
 */
export function validateThreshold(value) {
  if (value === null || value === undefined || value === '') return 'v_required';
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) && n >= 0 && n <= 1 ? null : 'v_threshold';
}

/**
 * The body of `PUT /admin/app/{app}/model/{model}`: only what changed (a missing field stays as
 * it is), or null when nothing did.
 * @param {{name: string, matchThreshold?: number | null}} model as loaded
 * @param {string} name the name in the dialog (trimmed)
 * @param {number | null | undefined} threshold the threshold in the dialog (null: none;
 *   undefined: the dialog does not offer one)
 * @returns {{name?: string, matchThreshold?: number | null} | null}
 */
export function serviceChange(model, name, threshold) {
  /** @type {{name?: string, matchThreshold?: number | null}} */
  const body = {};
  if (name !== model.name) body.name = name;
  if (threshold !== undefined && threshold !== model.matchThreshold) body.matchThreshold = threshold;
  return Object.keys(body).length ? body : null;
}

/**
 * Whether moving the test page's slider needs a new request: the server left out the faces below
 * the threshold the answer was asked with, so a lower one can only be shown by asking again; a
 * higher one relabels the answer in place.
 * @param {number | null} asked the threshold of the answer shown (null: no answer)
 * @param {number} current
 */
export function needsNewRequest(asked, current) {
  return asked !== null && current < asked;
}
