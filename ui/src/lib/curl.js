// The curl command equivalent to a request of the test page.

/** Quotes a value for a POSIX shell inside double quotes. @param {string} s */
export function shellQuote(s) {
  return '"' + s.replace(/(["\\$`])/g, '\\$1') + '"';
}

/**
 * The query of a test request: the face_plugins repeated as the UI sends them, then the other
 * parameters (similarity_threshold on recognition).
 * @param {readonly string[]} plugins
 * @param {ReadonlyArray<[string, string]>} [params]
 */
export function testQuery(plugins, params = []) {
  return [...plugins.map((p) => /** @type {[string, string]} */ (['face_plugins', p])), ...params]
    .map(([k, v]) => encodeURIComponent(k) + '=' + encodeURIComponent(v))
    .join('&');
}

/**
 * The URL of a test request.
 * @param {string} origin e.g. "http://localhost:8000"
 * @param {string} path e.g. "/api/v1/recognition/recognize"
 * @param {readonly string[]} plugins
 * @param {ReadonlyArray<[string, string]>} [params]
 */
export function requestUrl(origin, path, plugins, params = []) {
  const qs = testQuery(plugins, params);
  return origin.replace(/\/$/, '') + path + (qs ? '?' + qs : '');
}

/**
 * @param {{origin: string, path: string, plugins: readonly string[], params?: ReadonlyArray<[string, string]>, apiKey: string, files: ReadonlyArray<[string, string]>}} req
 *   files: [form field, file name]
 */
export function curlCommand(req) {
  const lines = [
    `curl -X POST ${shellQuote(requestUrl(req.origin, req.path, req.plugins, req.params))}`,
    `-H "Content-Type: multipart/form-data"`,
    `-H ${shellQuote('x-api-key: ' + req.apiKey)}`,
    ...req.files.map(([field, name]) => `-F ${shellQuote(field + '=@' + name)}`),
  ];
  return lines.join(' \\\n  ');
}

/** Endpoint of each service type's test request. */
export const TEST_PATHS = /** @type {const} */ ({
  RECOGNITION: '/api/v1/recognition/recognize',
  DETECTION: '/api/v1/detection/detect',
  VERIFY: '/api/v1/verification/verify',
});

/**
 * The answer of a test request, indented, with arrays of plain values (landmarks, embeddings)
 * kept on one line.
 * @param {unknown} value
 */
export function compactJson(value) {
  const text = JSON.stringify(value, null, 2);
  if (text === undefined) return '';
  return text.replace(/\[(?:\s*(?:-?[\d.eE+-]+|true|false|null)\s*,?)+\s*\]/g, (m) => '[' + m.slice(1, -1).trim().split(/\s*,\s*/).join(', ') + ']');
}
