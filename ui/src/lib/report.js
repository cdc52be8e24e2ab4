// The downloadable report of a bulk import.

/** @param {unknown} v */
export function csvField(v) {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\r\n]/.test(s) || /^[=+\-@]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
}

/**
 * @param {ReadonlyArray<{path: string, subject: string, reason: string}>} failures
 * @returns {string}
 */
export function failuresCsv(failures) {
  const rows = [['file', 'subject', 'reason'], ...failures.map((f) => [f.path, f.subject, f.reason])];
  return rows.map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}
