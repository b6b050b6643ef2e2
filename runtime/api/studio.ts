/**
 * Serves Sluice Studio, the web app built into studio/dist, at `/` next to the API: the built
 * files, and index.html for the app's own paths (/pipes, /pipes/{id}, /datasets, ...), so that
 * deep links and reloads work.
 *
 * With authentication on, the browser cannot put a bearer token on the requests it makes for
 * scripts and styles. The app therefore splits into a small sign-in entry (index.html and the
 * assets it loads statically, read from Vite's manifest), which is public, and the rest, which is
 * served only to a browser that presents a valid token in the `sluice_token` cookie. The app sets
 * that cookie after sign-in; its API calls carry the token as a bearer token.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import fastifyStatic from '@fastify/static';
import type { Verifier } from './auth.js';

export const STUDIO_TOKEN_COOKIE = 'sluice_token';

/** The app's own paths, answered with index.html (the API stays under /api). */
export const STUDIO_PATHS = ['/', '/pipes', '/pipes/*', '/datasets', '/datasets/*', '/graph', '/systems', '/systems/*', '/config'];

/** studio/dist from the sources (runtime/api) and from the compiled dist/runtime/api. */
export function studioDistDir(): string | null {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const candidate of [resolve(here, '../../studio/dist'), resolve(here, '../../../studio/dist')]) {
    if (existsSync(join(candidate, 'index.html'))) return candidate;
  }
  return null;
}

interface ManifestChunk {
  file: string;
  isEntry?: boolean;
  imports?: string[];
  css?: string[];
  assets?: string[];
}

/** The files the sign-in entry needs: the entry chunk, its static imports, their styles and assets. */
export function publicAssets(dist: string): Set<string> {
  const out = new Set<string>();
  const path = join(dist, '.vite', 'manifest.json');
  if (!existsSync(path)) return out;
  const manifest = JSON.parse(readFileSync(path, 'utf8')) as Record<string, ManifestChunk>;
  const visit = (key: string) => {
    const chunk = manifest[key];
    if (!chunk || out.has(`/${chunk.file}`)) return;
    out.add(`/${chunk.file}`);
    for (const c of chunk.css ?? []) out.add(`/${c}`);
    for (const a of chunk.assets ?? []) out.add(`/${a}`);
    for (const i of chunk.imports ?? []) visit(i);
  };
  for (const [key, chunk] of Object.entries(manifest)) if (chunk.isEntry) visit(key);
  return out;
}

function cookieValue(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sluice Studio</title></head>
<body><main><h1>Sluice Studio is not built</h1><p>Run <code>npm run build:studio</code> and reload. The API is at <a href="/api">/api</a>.</p></main></body></html>`;

export interface StudioPluginOptions {
  /** Checks bearer tokens when authentication is on. */
  verify: Verifier | null;
  /** Where the built app is (default: studio/dist of this checkout). */
  dist?: string | null;
}

export const studioPlugin: FastifyPluginAsync<StudioPluginOptions> = async (app, opts) => {
  const dist = opts.dist === undefined ? studioDistDir() : opts.dist;
  const verify = opts.verify;
  const hidden = { hide: true } as const;
  const open = { public: true } as const;

  if (!dist) {
    for (const path of STUDIO_PATHS) app.get(path, { config: open, schema: hidden }, async (_request, reply) => reply.code(503).type('text/html; charset=utf-8').send(NOT_BUILT));
    return;
  }

  const indexHtml = readFileSync(join(dist, 'index.html'), 'utf8');
  const publicFiles = publicAssets(dist);
  const sendIndex = (reply: FastifyReply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(indexHtml);

  async function signedIn(request: FastifyRequest): Promise<boolean> {
    if (!verify) return true;
    const token = cookieValue(request, STUDIO_TOKEN_COOKIE);
    if (!token) return false;
    try {
      await verify(`Bearer ${token}`);
      return true;
    } catch {
      return false;
    }
  }

  await app.register(fastifyStatic, { root: dist, serve: false });

  for (const path of STUDIO_PATHS) app.get(path, { config: open, schema: hidden }, async (_request, reply) => sendIndex(reply));

  app.get('/assets/*', { config: open, schema: hidden }, async (request, reply) => {
    const file = `/assets/${(request.params as { '*': string })['*']}`;
    if (!publicFiles.has(file) && !(await signedIn(request))) {
      return reply.code(401).type('application/json; charset=utf-8').send({ error: { code: 'UNAUTHORIZED', message: 'sign in to Sluice Studio first' } });
    }
    // Built file names carry a content hash: they never change.
    return reply.sendFile(file.slice(1), { maxAge: '365d', immutable: true });
  });

  app.get('/favicon.svg', { config: open, schema: hidden }, async (_request, reply) => reply.sendFile('favicon.svg'));
};
