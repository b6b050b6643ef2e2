#!/usr/bin/env node
// A stand-in for `sluice runtime` in the fake node's own tests: listens on 127.0.0.1 at `--port <p>`
// (or PORT), answers GET /api/health with 200 and GET /info with what it was started with: its
// arguments, environment, working directory and the contents of every file or directory
// named by an argument or environment value (directories as nested objects). `--health-delay <ms>` delays readiness.
import { createServer } from 'node:http';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
function option(name) {
  const i = args.indexOf(name);
  if (i >= 0) return args[i + 1];
  const eq = args.find((a) => a.startsWith(`${name}=`));
  return eq === undefined ? undefined : eq.slice(name.length + 1);
}
const port = Number(option('--port') ?? process.env.PORT);
const healthyAt = Date.now() + Number(option('--health-delay') ?? 0);

function readPath(p, depth = 0) {
  try {
    const st = statSync(p);
    if (st.isFile()) return readFileSync(p, 'utf8');
    if (st.isDirectory() && depth < 4) return Object.fromEntries(readdirSync(p).slice(0, 100).map((f) => [f, readPath(join(p, f), depth + 1)]));
  } catch {
    // not readable: left out
  }
  return undefined;
}

function info() {
  const files = {};
  const skip = new Set(['PATH', 'HOME', 'TMPDIR', 'PWD', 'OLDPWD', 'SHELL', '_']);
  for (const v of [...args, ...Object.entries(process.env).filter(([k]) => !skip.has(k)).map(([, v]) => v)]) {
    for (const candidate of [v, v.includes('=') ? v.slice(v.indexOf('=') + 1) : undefined]) {
      if (candidate && candidate.startsWith('/') && existsSync(candidate) && !(candidate in files)) {
        const content = readPath(candidate);
        if (content !== undefined) files[candidate] = content;
      }
    }
  }
  return { pid: process.pid, port, args, env: process.env, cwd: process.cwd(), files };
}

const server = createServer((req, res) => {
  if (req.url === '/api/health') {
    const ok = Date.now() >= healthyAt;
    res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: ok ? 'ok' : 'starting' }));
  } else if (req.url === '/info') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(info()));
  } else {
    res.writeHead(404);
    res.end();
  }
});
server.listen(port, '127.0.0.1', () => console.log(`fake runtime listening on 127.0.0.1:${port}`));
const shutdown = (signal) => {
  console.log(`fake runtime got ${signal}`);
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
