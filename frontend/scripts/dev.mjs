// A development server: the web map's files straight from this folder (edit
// and reload, no Go rebuild), everything else proxied to a running onemap.
//   node scripts/dev.mjs [http://127.0.0.1:8080] [port 8081]
import {createServer, request} from 'node:http';
import {readFile} from 'node:fs/promises';
import {dirname, extname, join, normalize} from 'node:path';
import {fileURLToPath} from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const upstream = new URL(process.argv[2] || 'http://127.0.0.1:8080');
const port = Number(process.argv[3] || 8081);
const types = {'.html': 'text/html; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml'};

createServer(async (req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)).replace(/^\/+/, '') || 'index.html';
  if (path === 'index.html' || /^(app|lib)\//.test(path)) {
    try {
      const body = await readFile(join(root, path));
      res.writeHead(200, {'Content-Type': types[extname(path)] || 'application/octet-stream', 'Cache-Control': 'no-store'});
      res.end(body);
      return;
    } catch {
      // not a file of ours: ask onemap
    }
  }
  const up = request({host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: {...req.headers, host: `${req.headers.host}`}}, (r) => {
    res.writeHead(r.statusCode, r.headers);
    r.pipe(res);
  });
  up.on('error', (e) => {
    res.writeHead(502, {'Content-Type': 'application/json'});
    res.end(JSON.stringify({error: 'onemap is not reachable', detail: e.message}));
  });
  req.pipe(up);
}).listen(port, '127.0.0.1', () => console.log(`web map from ${root} on http://127.0.0.1:${port}/, API from ${upstream.href}`));
