// Request statistics of a service: `[{requestCount, createdDate}]`, one row per day, newest first.
// The server counts requests per UTC day, so the buckets are UTC days and months too.

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** @typedef {{requestCount: number, createdDate?: string | null}} StatRow */
/** @typedef {{label: string, key: string, value: number}} Bucket */

/** @param {number} n */
const pad = (n) => String(n).padStart(2, '0');

/** A date's "YYYY-MM-DD" in UTC (the server's days). @param {Date} d */
export function dayKey(d) {
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

/**
 * "YYYY-MM-DD" of a row's createdDate, which may also be a full ISO date-time; null if unusable.
 * @param {string | null | undefined} s
 */
export function rowDay(s) {
  if (typeof s !== 'string') return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(s);
  return m ? `${m[1]}-${m[2]}-${m[3]}` : null;
}

/** @param {readonly StatRow[]} rows */
function sumByDay(rows) {
  /** @type {Map<string, number>} */
  const byDay = new Map();
  for (const r of rows) {
    const k = rowDay(r.createdDate);
    if (!k) continue;
    byDay.set(k, (byDay.get(k) ?? 0) + (Number(r.requestCount) || 0));
  }
  return byDay;
}

/**
 * Requests per day for the 30 days ending `today` (oldest first), labelled "dd-MM".
 * @param {readonly StatRow[]} rows
 * @param {Date} [today]
 * @returns {Bucket[]}
 */
export function perDay(rows, today = new Date(), days = 30) {
  const byDay = sumByDay(rows);
  const out = [];
  for (let i = days - 1; i >= 0; i--) {
    const d = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - i));
    const key = dayKey(d);
    out.push({ key, label: `${pad(d.getUTCDate())}-${pad(d.getUTCMonth() + 1)}`, value: byDay.get(key) ?? 0 });
  }
  return out;
}

/**
 * Requests per month for the 6 months ending with `today`'s month (oldest first), labelled by month name.
 * @param {readonly StatRow[]} rows
 * @param {Date} [today]
 * @returns {Bucket[]}
 */
export function perMonth(rows, today = new Date(), months = 6) {
  /** @type {Map<string, number>} */
  const byMonth = new Map();
  for (const [day, n] of sumByDay(rows)) {
    const k = day.slice(0, 7);
    byMonth.set(k, (byMonth.get(k) ?? 0) + n);
  }
  const out = [];
  for (let i = months - 1; i >= 0; i--) {
    const d = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() - i, 1));
    const key = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}`;
    out.push({ key, label: MONTHS[d.getUTCMonth()], value: byMonth.get(key) ?? 0 });
  }
  return out;
}

/** True when the answer holds no usable row ("No Data is Available"). @param {readonly StatRow[] | null | undefined} rows */
export function hasData(rows) {
  return Array.isArray(rows) && rows.some((r) => rowDay(r.createdDate) !== null);
}

/**
 * Points of a line chart inside a width × height box with padding, and a "nice" maximum.
 * @param {readonly Bucket[]} buckets
 * @param {{width: number, height: number, left: number, right: number, top: number, bottom: number}} box
 */
export function chartPoints(buckets, box) {
  const max = niceMax(Math.max(0, ...buckets.map((b) => b.value)));
  const w = box.width - box.left - box.right;
  const h = box.height - box.top - box.bottom;
  const step = buckets.length > 1 ? w / (buckets.length - 1) : 0;
  const points = buckets.map((b, i) => ({
    x: box.left + i * step,
    y: box.top + h - (max ? (b.value / max) * h : 0),
    bucket: b,
  }));
  return { max, points };
}

/** Smallest of 1, 2, 5 × 10^k at least n (and at least 1). @param {number} n */
export function niceMax(n) {
  if (!(n > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(n)));
  for (const m of [1, 2, 5, 10]) if (m * p >= n) return m * p;
  return 10 * p;
}

/**
 * The values to label on the y axis of a chart scaled to `max` (from `niceMax`): 0, the middle
 * and `max`, leaving out a middle that is not a whole number (request counts are).
 * @param {number} max
 * @returns {number[]}
 */
export function axisTicks(max) {
  const middle = max / 2;
  return Number.isInteger(middle) && middle > 0 ? [0, middle, max] : [0, max];
}
