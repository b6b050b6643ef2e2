/**
 * Defect 8: with `sluice run <folder>` the folder is the source of truth. Config changes made
 * through the API are written into its files (and survive edits and restarts), changes the folder
 * cannot take are refused with 409, and a folder that does not exist is an error at start.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sluiceBin } from '../support/cli.js';
import { tempDir } from '../support/runtime.js';
import { startChild, type Child } from './child.js';

const pipe = (id: string, extra: Record<string, unknown> = {}) => ({ _id: id, type: 'pipe', source: { type: 'embedded', entities: [{ _id: `${id}-1` }] }, ...extra });
const json = { 'content-type': 'application/json' };

let folder: string;
let data: string;
let child: Child;
let base: string;

function start(configPath: string, dataDir: string, extra: string[] = []): Child {
  return startChild([sluiceBin, 'run', configPath, '--port', '0', '--data-dir', dataDir, ...extra]);
}

async function serving(c: Child): Promise<string> {
  return `http://127.0.0.1:${/:(\d+)\/api/.exec(await c.line(/serving .* at http/))![1]}`;
}

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const r = await fetch(base + path, { method, headers: json, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : undefined };
}

const file = (path: string) => join(folder, path);
const ids = async () => ((await call('GET', '/api/pipes')).json as { _id: string }[]).map((p) => p._id).sort();

/** Waits until the served config shows `check` (a reload of the folder is asynchronous). */
async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  folder = tempDir('sluice-folder-');
  data = join(folder, '.data');
  mkdirSync(join(folder, 'pipes'));
  writeFileSync(file('pipes/a.conf.json'), JSON.stringify(pipe('a'), null, 2));
  writeFileSync(file('pipes/notes.conf.yaml'), '_id: notes\ntype: pipe\nsource:\n  type: embedded\n  entities: []\n');
  writeFileSync(file('pipes/pair.conf.json'), JSON.stringify([pipe('left'), pipe('right')], null, 2));
  child = start(folder, data);
  base = await serving(child);
}, 60_000);

afterAll(async () => {
  await child?.kill();
});

describe('a served config folder', () => {
  it('takes pipes and systems created, replaced and deleted through the API into its files', async () => {
    expect((await call('POST', '/api/pipes', [pipe('b')])).status).toBe(200);
    expect(JSON.parse(readFileSync(file('pipes/b.conf.json'), 'utf8'))._id).toBe('b');
    expect((await call('PUT', '/api/pipes/a/config', pipe('a', { description: 'changed' }))).status).toBe(200);
    expect(JSON.parse(readFileSync(file('pipes/a.conf.json'), 'utf8')).description).toBe('changed');
    expect((await call('POST', '/api/systems', [{ _id: 'api', type: 'system:url', url_pattern: 'http://localhost/%s' }])).status).toBe(200);
    expect(existsSync(file('systems/api.conf.json'))).toBe(true);
    expect((await call('DELETE', '/api/systems/api')).status).toBe(200);
    expect(existsSync(file('systems/api.conf.json'))).toBe(false);

    // An edit of another file reloads the folder: what the API added is still there.
    writeFileSync(file('pipes/c.conf.json'), JSON.stringify(pipe('c'), null, 2));
    await until(async () => (await ids()).includes('c'), 'the reload');
    expect(await ids()).toEqual(['a', 'b', 'c', 'left', 'notes', 'right']);
  });

  it('refuses with 409 changes that would rewrite a YAML file or a file holding several entities', async () => {
    const yaml = await call('PUT', '/api/pipes/notes/config', pipe('notes'));
    expect(yaml.status).toBe(409);
    expect(yaml.json.error.message).toMatch(/pipes\/notes\.conf\.yaml, a YAML file/);
    const pair = await call('DELETE', '/api/pipes/left');
    expect(pair.status).toBe(409);
    expect(pair.json.error.message).toMatch(/pipes\/pair\.conf\.json .* holds 2 entities \(left, right\)/);
    expect(await ids()).toContain('left');
    expect(JSON.parse(readFileSync(file('pipes/pair.conf.json'), 'utf8'))).toHaveLength(2);
  });

  it('is replaced whole by PUT /api/config, and a restart serves the folder as the API left it', async () => {
    const r = await call('PUT', '/api/config', [pipe('x'), pipe('y')]);
    expect(r.status).toBe(200);
    expect(readdirSync(file('pipes')).sort()).toEqual(['x.conf.json', 'y.conf.json']);
    await child.kill();
    child = start(folder, data);
    base = await serving(child);
    expect(await ids()).toEqual(['x', 'y']);
  }, 60_000);

  it('must exist: a mistyped folder is an error at start, not the last plan served again', async () => {
    const typo = start(`${folder}-typo`, data, ['--port', '0']);
    const exit = await typo.exited;
    expect(exit.code).not.toBe(0);
    expect(typo.stderr()).toMatch(/the config folder .*-typo does not exist/);
  });

  it('does not take API changes when it is a single config file', async () => {
    const dir = tempDir('sluice-single-');
    writeFileSync(join(dir, 'config.json'), JSON.stringify([pipe('only')]));
    const single = start(join(dir, 'config.json'), join(dir, '.data'));
    try {
      const at = await serving(single);
      const r = await fetch(`${at}/api/pipes`, { method: 'POST', headers: json, body: JSON.stringify([pipe('more')]) });
      expect(r.status).toBe(409);
      expect(((await r.json()) as { error: { message: string } }).error.message).toMatch(/runs the config file .*config\.json, which API changes are not written into/);
    } finally {
      await single.kill();
    }
  }, 60_000);
});
