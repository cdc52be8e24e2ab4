// How to call a service from a program: curl, Python (the CompreFace SDK, `pip install
// compreface-sdk`, which works against this server unchanged) and JavaScript (fetch with
// FormData), with the service's key and this server's address filled in.

import { curlCommand } from './curl.js';

/** @typedef {'RECOGNITION' | 'DETECTION' | 'VERIFY'} ServiceType */
/** @typedef {'curl' | 'python' | 'javascript'} SnippetLanguage */

export const SNIPPET_LANGUAGES = /** @type {const} */ (['curl', 'python', 'javascript']);

/** The API documents of this server. */
export const API_DOCS = /** @type {const} */ ({ api: '/api/v1/docs', admin: '/admin/docs' });

/**
 * The SDK's DOMAIN and PORT of an origin: "http://host" and the port, or the scheme's default.
 * @param {string} origin e.g. "https://faces.example.com" or "http://localhost:8000"
 */
export function originParts(origin) {
  const u = new URL(origin);
  return { domain: `${u.protocol}//${u.hostname}`, port: u.port || (u.protocol === 'https:' ? '443' : '80') };
}

/** A Python or JavaScript string literal. @param {string} s */
const lit = (s) => JSON.stringify(s);

/**
 * @param {ServiceType} type
 * @param {string} origin
 * @param {string} apiKey
 */
function curlSnippet(type, origin, apiKey) {
  const base = { origin, plugins: [], apiKey };
  if (type === 'RECOGNITION') {
    return [
      '# Add an example of a subject',
      curlCommand({ ...base, path: '/api/v1/recognition/faces', params: [['subject', 'Alice']], files: [['file', 'alice.jpg']] }),
      '',
      '# Recognise the faces of a photo',
      curlCommand({ ...base, path: '/api/v1/recognition/recognize', files: [['file', 'photo.jpg']] }),
    ].join('\n');
  }
  if (type === 'DETECTION') {
    return ['# Detect the faces of a photo', curlCommand({ ...base, path: '/api/v1/detection/detect', plugins: ['age', 'gender'], files: [['file', 'photo.jpg']] })].join('\n');
  }
  return [
    '# Compare the face of one photo with the faces of another',
    curlCommand({ ...base, path: '/api/v1/verification/verify', files: [['source_image', 'first.jpg'], ['target_image', 'second.jpg']] }),
  ].join('\n');
}

/**
 * @param {ServiceType} type
 * @param {string} origin
 * @param {string} apiKey
 */
function pythonSnippet(type, origin, apiKey) {
  const { domain, port } = originParts(origin);
  const head = ['# pip install compreface-sdk', 'from compreface import CompreFace', '', `compre_face = CompreFace(${lit(domain)}, ${lit(port)})`];
  if (type === 'RECOGNITION') {
    return [
      ...head,
      `recognition = compre_face.init_face_recognition(${lit(apiKey)})`,
      '',
      '# Add an example of a subject',
      "recognition.get_face_collection().add(image_path='alice.jpg', subject='Alice')",
      '',
      '# Recognise the faces of a photo',
      "print(recognition.recognize(image_path='photo.jpg'))",
    ].join('\n');
  }
  if (type === 'DETECTION') {
    return [...head, `detection = compre_face.init_face_detection(${lit(apiKey)})`, '', "print(detection.detect(image_path='photo.jpg'))"].join('\n');
  }
  return [...head, `verification = compre_face.init_face_verification(${lit(apiKey)})`, '', "print(verification.verify('first.jpg', 'second.jpg'))"].join('\n');
}

/**
 * @param {ServiceType} type
 * @param {string} origin
 * @param {string} apiKey
 */
function javascriptSnippet(type, origin, apiKey) {
  const server = origin.replace(/\/$/, '');
  const call = [
    `const server = ${lit(server)};`,
    `const apiKey = ${lit(apiKey)};`,
    '',
    '// file: a File or Blob, e.g. from <input type="file">',
    'async function call(path, form) {',
    "  const res = await fetch(server + path, { method: 'POST', headers: { 'x-api-key': apiKey }, body: form });",
    '  if (!res.ok) throw new Error(`${res.status}: ${await res.text()}`);',
    '  return res.json();',
    '}',
    '',
  ];
  if (type === 'RECOGNITION') {
    return [
      ...call,
      '// Add an example of a subject',
      'const example = new FormData();',
      "example.append('file', file);",
      "await call('/api/v1/recognition/faces?subject=' + encodeURIComponent('Alice'), example);",
      '',
      '// Recognise the faces of a photo',
      'const photo = new FormData();',
      "photo.append('file', file);",
      "console.log(await call('/api/v1/recognition/recognize', photo));",
    ].join('\n');
  }
  if (type === 'DETECTION') {
    return [...call, 'const photo = new FormData();', "photo.append('file', file);", "console.log(await call('/api/v1/detection/detect?face_plugins=age&face_plugins=gender', photo));"].join('\n');
  }
  return [
    ...call,
    '// first, second: the two photos to compare',
    'const pair = new FormData();',
    "pair.append('source_image', first);",
    "pair.append('target_image', second);",
    "console.log(await call('/api/v1/verification/verify', pair));",
  ].join('\n');
}

/**
 * The snippet of a service in one language.
 * @param {SnippetLanguage} language
 * @param {{type: ServiceType, origin: string, apiKey: string}} service
 */
export function serviceSnippet(language, { type, origin, apiKey }) {
  if (language === 'python') return pythonSnippet(type, origin, apiKey);
  if (language === 'javascript') return javascriptSnippet(type, origin, apiKey);
  return curlSnippet(type, origin, apiKey);
}
