// Serves ui/dist like the production front door, for running the browser tests without nginx:
//   /            static files, SPA fallback to index.html (Cache-Control: no-cache),
//                /assets/* immutable
//   /admin/…     → $ADMIN_URL/admin/…
//   /api/v1/…    → $API_URL/api/v1/…
//   /core/…      → $CORE_URL/…   (prefix stripped)
// Usage: PORT=8000 ADMIN_URL=http://127.0.0.1:8081 API_URL=http://127.0.0.1:8080 CORE_URL=http://127.0.0.1:3000 node tests/serve.mjs
// Also importable: `startServer({port, dist, adminUrl, apiUrl, coreUrl})` resolves to the http.Server.

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/**
 * Forwards a request to `target` (a base URL) with path `upstreamPath`, streaming both bodies.
 * @param {http.IncomingMessage} req
 * @param {http.ServerResponse} res
 * @param {string} target
 * @param {string} upstreamPath
 */
function proxy(req, res, target, upstreamPath) {
  const base = new URL(target);
  /** @type {http.OutgoingHttpHeaders} */
  const headers = {};
  for (const [k, v] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(k)) headers[k] = v;
  headers.host = base.host;
  headers['x-forwarded-host'] = req.headers.host ?? '';
  headers['x-forwarded-proto'] = 'http';
  const basePath = base.pathname.replace(/\/$/, '');
  const up = http.request(
    { hostname: base.hostname, port: base.port || 80, method: req.method, path: basePath + upstreamPath, headers },
    (upRes) => {
      /** @type {http.OutgoingHttpHeaders} */
      const out = {};
      for (const [k, v] of Object.entries(upRes.headers)) if (!HOP_BY_HOP.has(k)) out[k] = v;
      res.writeHead(upRes.statusCode ?? 502, out);
      upRes.pipe(res);
    },
  );
  up.on('error', () => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
    res.end('Bad Gateway');
  });
  req.pipe(up);
}

/**
 * @param {http.ServerResponse} res
 * @param {string} file
 * @param {string} cache
 * @param {string} method
 */
function sendFile(res, file, cache, method) {
  const type = TYPES[/** @type {keyof typeof TYPES} */ (path.extname(file).toLowerCase())] ?? 'application/octet-stream';
  const stat = fs.statSync(file);
  res.writeHead(200, { 'content-type': type, 'content-length': stat.size, 'cache-control': cache });
  if (method === 'HEAD') return res.end();
  fs.createReadStream(file).pipe(res);
}

/**
 * @param {{port?: number, host?: string, dist?: string, adminUrl?: string, apiUrl?: string, coreUrl?: string}} [opts]
 * @returns {Promise<http.Server>}
 */
export function startServer(opts = {}) {
  const dist = path.resolve(opts.dist ?? path.join(here, '..', 'dist'));
  const adminUrl = opts.adminUrl ?? process.env.ADMIN_URL ?? 'http://127.0.0.1:8081';
  const apiUrl = opts.apiUrl ?? process.env.API_URL ?? 'http://127.0.0.1:8080';
  const coreUrl = opts.coreUrl ?? process.env.CORE_URL ?? 'http://127.0.0.1:3000';
  const index = path.join(dist, 'index.html');

  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    const pathname = url.split('?')[0];
    if (pathname === '/admin' || pathname.startsWith('/admin/')) return proxy(req, res, adminUrl, url);
    if (pathname.startsWith('/api/v1/')) return proxy(req, res, apiUrl, url);
    if (pathname.startsWith('/core/')) return proxy(req, res, coreUrl, url.slice('/core'.length));
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' });
      return res.end();
    }
    let decoded;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      res.writeHead(400);
      return res.end();
    }
    const file = path.join(dist, path.normalize(decoded));
    if (file.startsWith(dist + path.sep) && fs.existsSync(file) && fs.statSync(file).isFile()) {
      const immutable = decoded.startsWith('/assets/');
      return sendFile(res, file, immutable ? 'public, max-age=31536000, immutable' : file === index ? 'no-cache' : 'public, max-age=3600', req.method);
    }
    if (decoded.startsWith('/assets/')) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      return res.end('Not Found');
    }
    return sendFile(res, index, 'no-cache', req.method); // SPA fallback
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? Number(process.env.PORT ?? 8000), opts.host ?? process.env.HOST ?? '127.0.0.1', () => resolve(server));
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const server = await startServer();
  const addr = server.address();
  console.log(`Serving ${path.join(here, '..', 'dist')} on http://${typeof addr === 'object' && addr ? `${addr.address}:${addr.port}` : addr}`);
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => server.close(() => process.exit(0)));
}
