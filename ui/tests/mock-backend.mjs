// @ts-nocheck -- a loose development stand-in; the product code is type-checked.
// An in-memory stand-in for the three back ends, for developing and looking at the UI without
// the real services (`npm run mock`, then `npm run serve` with the URLs below). It answers the
// calls the UI makes with the documented shapes; it does no face recognition (every image has one
// face in a fixed place). The browser tests never use it: they run against the real services.
//   node tests/mock-backend.mjs            # listens on 127.0.0.1:8099
//   ADMIN_URL=http://127.0.0.1:8099 API_URL=http://127.0.0.1:8099 CORE_URL=http://127.0.0.1:8099/core node tests/serve.mjs

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const PORT = Number(process.env.MOCK_PORT ?? 8099);
const sample = path.join(here, '..', '..', 'tests', 'fixtures', 'image-formats', 'einstein.jpeg');

const EMPTY = process.env.MOCK_EMPTY === '1';
let demoAvailable = EMPTY;
const users = EMPTY ? [] : [
  { userId: 'u-owner', email: 'owner@example.com', password: 'password1', firstName: 'Olivia', lastName: 'Owner', role: 'OWNER' },
  { userId: 'u-user', email: 'user@example.com', password: 'password1', firstName: 'Uma', lastName: 'User', role: 'USER' },
];
const apps = EMPTY ? [] : [{ id: 'a-1', name: 'Front door', apiKey: randomUUID(), ownerId: 'u-owner', members: { 'u-owner': 'OWNER', 'u-user': 'USER' } }];
const models = [
  { id: 'm-1', appId: 'a-1', name: 'Staff', type: 'RECOGNITION', apiKey: '00000000-0000-0000-0000-000000000002', createdDate: '2026-01-10T10:00:00' },
  { id: 'm-2', appId: 'a-1', name: 'Visitors', type: 'DETECTION', apiKey: randomUUID(), createdDate: '2026-02-01T09:00:00' },
  { id: 'm-3', appId: 'a-1', name: 'Badge check', type: 'VERIFY', apiKey: randomUUID(), createdDate: '2026-02-11T09:00:00' },
];
/** @type {Record<string, Array<{image_id: string, subject: string}>>} */
const faces = { 'm-1': [] };
if (EMPTY) faces['m-1'] = [];
else for (let i = 0; i < 120; i++) faces['m-1'].push({ image_id: randomUUID(), subject: `person-${String(i).padStart(3, '0')}` });
faces['m-1'].push({ image_id: randomUUID(), subject: 'person-000' });

/** @param {http.ServerResponse} res @param {number} status @param {unknown} [body] @param {Record<string,string|string[]>} [headers] */
function send(res, status, body, headers = {}) {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(text);
}
/** @param {http.IncomingMessage} req @returns {Promise<Buffer>} */
function readBody(req) {
  return new Promise((ok) => {
    const chunks = /** @type {Buffer[]} */ ([]);
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => ok(Buffer.concat(chunks)));
  });
}
/** @param {Buffer} b */
const json = (b) => {
  try {
    return JSON.parse(b.toString() || 'null');
  } catch {
    return null;
  }
};
/** @param {string} s */
const userView = (u) => ({ userId: u.userId, firstName: u.firstName, lastName: u.lastName, role: u.role, email: u.email });
/** @param {any} a @param {string} uid */
const appView = (a, uid) => {
  const o = users.find((u) => u.userId === a.ownerId) ?? users[0];
  return { id: a.id, name: a.name, apiKey: a.apiKey, role: a.members[uid] ?? null, owner: { userId: o.userId, firstName: o.firstName, lastName: o.lastName } };
};
/** @param {any} m */
const modelView = (m) => {
  const list = faces[m.id] ?? [];
  return { id: m.id, name: m.name, apiKey: m.apiKey, type: m.type, createdDate: m.createdDate, subjectCount: new Set(list.map((f) => f.subject)).size, imageCount: list.length };
};
const face = (extra = {}) => ({
  box: { probability: 0.99876, x_min: 70, y_min: 50, x_max: 190, y_max: 200 },
  landmarks: [[100, 110], [160, 110], [130, 140], [105, 170], [155, 170]],
  age: { probability: 0.8, high: 32, low: 25 },
  gender: { probability: 0.9, value: 'male' },
  pose: { pitch: 5, roll: -3, yaw: 12 },
  ...extra,
});

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  const p = url.pathname;
  const m = req.method ?? 'GET';
  const cookie = req.headers.cookie ?? '';
  const session = /CFSESSION=([^;]+)/.exec(cookie)?.[1];
  const me = users.find((u) => u.userId === session);
  const body = await readBody(req);

  if (p === '/core/status' || p === '/status')
    return send(res, 200, { status: 'OK', build_version: 'mock', calculator_version: 'mock', similarity_coefficients: [1.1, 5.5], available_plugins: { age: 'x', gender: 'x', landmarks: 'x', pose: 'x' } });
  if (p === '/admin/status') return send(res, 200, { status: 'OK', demoKeysActive: models.some((x) => x.apiKey.startsWith('00000000-')) });
  if (p === '/admin/config') return send(res, 200, { mailServiceEnabled: true });
  if (p === '/admin/user/demo/model')
    return demoAvailable ? send(res, 200, { apiKey: '00000000-0000-0000-0000-000000000002' }) : send(res, 404, { code: 404, message: 'The Demo model is not available any more!' });
  if (p === '/admin/oauth/token' && m === 'POST') {
    const text = body.toString();
    const field = (n) => new RegExp(`name="${n}"\\r\\n\\r\\n([^\\r]*)`).exec(text)?.[1];
    const u = users.find((x) => x.email === field('username') && x.password === field('password'));
    if (url.searchParams.get('grant_type') === 'refresh_token') return send(res, 200, { access_token: 'x' });
    if (!u) return send(res, 400, { error: 'invalid_grant', error_description: 'Bad credentials' });
    return send(res, 200, { access_token: u.userId }, { 'set-cookie': `CFSESSION=${u.userId}; Path=/admin; HttpOnly` });
  }
  if (p === '/admin/oauth/token' && m === 'DELETE') return send(res, 200, undefined, { 'set-cookie': 'CFSESSION=; Path=/admin; Max-Age=0' });
  if (p === '/admin/user/register') {
    const b = json(body);
    users.push({ userId: randomUUID(), email: b.email.toLowerCase(), password: b.password, firstName: b.firstName, lastName: b.lastName, role: demoAvailable ? 'OWNER' : 'USER' });
    demoAvailable = false;
    return send(res, 201);
  }
  if (p === '/admin/user/forgot-password') return send(res, 200);
  if (p.startsWith('/admin/')) {
    if (!me) return send(res, 401, { error: 'unauthorized', error_description: 'Full authentication is required' });
    if (p === '/admin/user/me') return send(res, 200, { userId: me.userId, email: me.email, firstName: me.firstName, lastName: me.lastName });
    if (p === '/admin/user/roles') return send(res, 200, users.map(userView));
    if (p === '/admin/user/global/assign-roles') return send(res, 200, me.role === 'OWNER' ? ['OWNER', 'ADMINISTRATOR', 'USER'] : ['ADMINISTRATOR', 'USER']);
    if (p === '/admin/user/global/role') {
      const b = json(body);
      const u = users.find((x) => x.userId === b.userId);
      if (u) u.role = b.role;
      return send(res, 200, u && userView(u));
    }
    if (/^\/admin\/user\/[^/]+\/password$/.test(p)) return send(res, 200);
    if (p === '/admin/user/update') {
      Object.assign(me, json(body));
      return send(res, 200, userView(me));
    }
    if (p === '/admin/user/me/password') return send(res, 200);
    if (p === '/admin/apps') return send(res, 200, apps.filter((a) => me.role !== 'USER' || a.members[me.userId]).map((a) => appView(a, me.userId)));
    if (p === '/admin/app' && m === 'POST') {
      const a = { id: randomUUID(), name: json(body).name, apiKey: randomUUID(), ownerId: me.userId, members: { [me.userId]: 'OWNER' } };
      apps.push(a);
      return send(res, 201, appView(a, me.userId));
    }
    const am = /^\/admin\/app\/([^/]+)(\/.*)?$/.exec(p);
    const app = am && apps.find((a) => a.id === decodeURIComponent(am[1]));
    if (!app) return send(res, 404, { code: 2, message: 'App not found' });
    const rest = am?.[2] ?? '';
    if (rest === '' && m === 'GET') return send(res, 200, appView(app, me.userId));
    if (rest === '' && m === 'PUT') return (app.name = json(body).name), send(res, 200, appView(app, me.userId));
    if (rest === '' && m === 'DELETE') return apps.splice(apps.indexOf(app), 1), send(res, 200);
    if (rest === '/apikey') return (app.apiKey = randomUUID()), send(res, 200, appView(app, me.userId));
    if (rest === '/roles') return send(res, 200, Object.entries(app.members).map(([id, role]) => ({ ...userView(users.find((u) => u.userId === id)), role })));
    if (rest === '/assign-roles') return send(res, 200, ['OWNER', 'ADMINISTRATOR', 'USER']);
    if (rest === '/invite') {
      const b = json(body);
      const u = users.find((x) => x.email === b.userEmail);
      if (!u) return send(res, 404, { code: 16, message: `User ${b.userEmail} does not exist` });
      app.members[u.userId] = b.role;
      return send(res, 201, { ...userView(u), role: b.role });
    }
    if (rest === '/role') return (app.members[json(body).userId] = json(body).role), send(res, 200, {});
    if (rest.startsWith('/user/')) return delete app.members[decodeURIComponent(rest.slice(6))], send(res, 200);
    if (rest === '/models') return send(res, 200, models.filter((x) => x.appId === app.id).map((x) => ({ ...modelView(x), subjectCount: undefined, imageCount: undefined })));
    if (rest === '/model' && m === 'POST') {
      const b = json(body);
      const x = { id: randomUUID(), appId: app.id, name: b.name, type: b.type, apiKey: randomUUID(), createdDate: new Date().toISOString().slice(0, 19) };
      models.push(x);
      return send(res, 201, modelView(x));
    }
    const mm = /^\/model\/([^/]+)(\/.*)?$/.exec(rest);
    const model = mm && models.find((x) => x.id === decodeURIComponent(mm[1]));
    if (!model) return send(res, 404, { code: 10, message: 'Model not found' });
    const r2 = mm?.[2] ?? '';
    if (r2 === '' && m === 'GET') return send(res, 200, modelView(model));
    if (r2 === '' && m === 'PUT') return (model.name = json(body).name), send(res, 200, modelView(model));
    if (r2 === '' && m === 'POST') {
      const x = { ...model, id: randomUUID(), name: json(body).name, apiKey: randomUUID() };
      models.push(x);
      return send(res, 201, modelView(x));
    }
    if (r2 === '' && m === 'DELETE') return models.splice(models.indexOf(model), 1), send(res, 200);
    if (r2 === '/apikey') return (model.apiKey = randomUUID()), send(res, 200, modelView(model));
    if (r2 === '/statistics') {
      const rows = [];
      for (let i = 0; i < 150; i += 1 + (i % 4)) {
        const d = new Date(Date.now() - i * 86400000);
        rows.push({ requestCount: 5 + ((i * 37) % 40), createdDate: d.toISOString().slice(0, 10) });
      }
      return send(res, 200, rows);
    }
    return send(res, 404, { code: 0, message: 'mock: unknown admin path' });
  }
  if (p === '/api/v1/config') return send(res, 200, { clientMaxFileSize: 5242880, clientMaxBodySize: 10485760 });
  if (p === '/api/v1/consistence/status') return send(res, 200, { demoFaceCollectionIsInconsistent: true, dbIsInconsistent: false, saveImagesToDB: true, status: 'OK' });
  if (p.startsWith('/api/v1/')) {
    const key = req.headers['x-api-key'];
    const model = models.find((x) => x.apiKey === key);
    if (!model) return send(res, 400, { code: 20, message: 'Missing header: x-api-key' });
    const list = (faces[model.id] ??= []);
    const r = p.slice('/api/v1'.length);
    if (r === '/recognition/subjects' && m === 'GET') {
      const all = [...new Set(list.map((f) => f.subject))].sort();
      if (!url.searchParams.has('page')) return send(res, 200, { subjects: all });
      const s = (url.searchParams.get('search') ?? '').toLowerCase();
      const filtered = all.filter((x) => x.toLowerCase().includes(s));
      const page = Number(url.searchParams.get('page'));
      const size = Number(url.searchParams.get('size') ?? 20);
      return send(res, 200, { subjects: filtered.slice(page * size, page * size + size), page_number: page, page_size: size, total_pages: Math.ceil(filtered.length / size), total_elements: filtered.length });
    }
    if (r === '/recognition/subjects' && m === 'POST') return list.push({ image_id: randomUUID(), subject: json(body).subject }), send(res, 201, { subject: json(body).subject });
    if (r.startsWith('/recognition/subjects/')) {
      const s = decodeURIComponent(r.slice('/recognition/subjects/'.length));
      if (m === 'DELETE') {
        faces[model.id] = list.filter((f) => f.subject !== s);
        return send(res, 200, { subject: s });
      }
      for (const f of list) if (f.subject === s) f.subject = json(body).subject;
      return send(res, 200, { updated: true });
    }
    if (r === '/recognition/faces' && m === 'GET') {
      const s = url.searchParams.get('subject');
      const all = list.filter((f) => !s || f.subject === s);
      const page = Number(url.searchParams.get('page') ?? 0);
      const size = Number(url.searchParams.get('size') ?? 20);
      return send(res, 200, { faces: all.slice(page * size, page * size + size), page_number: page, page_size: size, total_pages: Math.ceil(all.length / size), total_elements: all.length });
    }
    if (r === '/recognition/faces' && m === 'POST') {
      if (body.length < 2000 || /filename="[^"]*_0\./.test(body.toString('latin1'))) return send(res, 400, { code: 28, message: 'No face is found in the given image' });
      const f = { image_id: randomUUID(), subject: url.searchParams.get('subject') ?? '' };
      list.push(f);
      return send(res, 201, f);
    }
    if (/^\/recognition\/faces\/[^/]+\/img$/.test(r)) {
      res.writeHead(200, { 'content-type': 'image/jpeg' });
      return res.end(fs.existsSync(sample) ? fs.readFileSync(sample) : Buffer.alloc(0));
    }
    if (r === '/recognition/faces/delete') {
      const ids = json(body) ?? [];
      faces[model.id] = list.filter((f) => !ids.includes(f.image_id));
      return send(res, 200, list.filter((f) => ids.includes(f.image_id)));
    }
    if (r.startsWith('/recognition/faces/')) {
      const id = r.slice('/recognition/faces/'.length);
      faces[model.id] = list.filter((f) => f.image_id !== id);
      return send(res, 200, { image_id: id, subject: '' });
    }
    if (r === '/recognition/recognize') {
      const first = [...list].sort((a, b) => a.subject.localeCompare(b.subject))[0];
      return send(res, 200, { result: [face({ subjects: first ? [{ subject: first.subject, similarity: 0.97321, image_id: first.image_id }] : [] })] });
    }
    if (r === '/detection/detect') return send(res, 200, { result: [face(), face({ box: { probability: 0.9, x_min: 250, y_min: 60, x_max: 330, y_max: 160 } }), face({ box: { probability: 0.8, x_min: 400, y_min: 60, x_max: 470, y_max: 150 } })] });
    if (r === '/verification/verify') return send(res, 200, { result: [{ source_image_face: face(), face_matches: [face({ similarity: 0.91 })] }] });
    return send(res, 404, { code: 0, message: 'mock: unknown api path' });
  }
  send(res, 404, { message: 'mock: not found' });
});

server.listen(PORT, '127.0.0.1', () => console.log(`mock back end on http://127.0.0.1:${PORT}`));
