/**
 * Defect 4: config zips are inflated within limits (total size, entry count, ratio): a zip bomb
 * gets 413 with a clear message after a bounded amount of memory, and nothing changes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { crc32, createDeflateRaw } from 'node:zlib';
import { zipSync } from 'fflate';
import { startTestApi, type TestApi } from '../api/support.js';

let api: TestApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

/** A zip of one deflated entry, written by hand so that its data never has to be in memory inflated. */
function oneEntryZip(name: string, deflated: Buffer, size: number, crc: number): Buffer {
  const n = Buffer.from(name);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt16LE(8, 8);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(deflated.length, 18);
  local.writeUInt32LE(size, 22);
  local.writeUInt16LE(n.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(8, 10);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(deflated.length, 20);
  central.writeUInt32LE(size, 24);
  central.writeUInt16LE(n.length, 28);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(46 + n.length, 12);
  end.writeUInt32LE(30 + n.length + deflated.length, 16);
  return Buffer.concat([local, n, deflated, central, n, end]);
}

/** `mib` MiB of spaces, deflated a chunk at a time: a few hundred kB. */
async function spacesDeflated(mib: number): Promise<{ deflated: Buffer; crc: number }> {
  const chunk = Buffer.alloc(1024 * 1024, 0x20);
  const deflate = createDeflateRaw({ level: 9 });
  const parts: Buffer[] = [];
  deflate.on('data', (d: Buffer) => parts.push(d));
  const done = new Promise((r) => deflate.on('end', r));
  let crc = 0;
  for (let i = 0; i < mib; i++) {
    crc = crc32(chunk, crc);
    if (!deflate.write(chunk)) await new Promise((r) => deflate.once('drain', r));
  }
  deflate.end();
  await done;
  return { deflated: Buffer.concat(parts), crc };
}

const zipHeaders = { 'content-type': 'application/zip' };
const pipe = (id: string, extra: Record<string, unknown> = {}) => new TextEncoder().encode(JSON.stringify({ _id: id, type: 'pipe', source: { type: 'embedded', entities: [] }, ...extra }));

describe('zip uploads', () => {
  it('stop a zip bomb at the size limit with 413, in bounded memory', async () => {
    api = await startTestApi();
    const mib = 768;
    const { deflated, crc } = await spacesDeflated(mib);
    // The declared size is 1 MiB: the reader must not believe it.
    const bomb = oneEntryZip('pipes/bomb.conf.json', deflated, 1024 * 1024, crc);
    const peakBefore = process.resourceUsage().maxRSS;
    const r = await api.call('PUT', '/api/config', { raw: bomb, headers: zipHeaders });
    const grewKb = process.resourceUsage().maxRSS - peakBefore;
    expect(r.status).toBe(413);
    expect(r.json.error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(r.json.error.message).toMatch(/the zip archive's config files inflate to more than the limit of 64 MiB; nothing was changed/);
    expect(grewKb).toBeLessThan(128 * 1024);
    expect((await api.call('GET', '/api/config')).json).toEqual([]);
    const form = new FormData();
    form.append('file', new Blob([bomb]), 'config.zip');
    const multipart = await api.call('PUT', '/api/config', { raw: form });
    expect(multipart.status).toBe(413);
  }, 120_000);

  it('refuse archives with too many entries or too much content, and take ones within the limits', async () => {
    api = await startTestApi({ zipLimits: { totalBytes: 3_000_000, entries: 20, ratio: 50 } });
    const many: Record<string, Uint8Array> = {};
    for (let i = 0; i < 30; i++) many[`pipes/p${i}.conf.json`] = pipe(`p${i}`);
    let r = await api.call('PUT', '/api/config', { raw: Buffer.from(zipSync(many)), headers: zipHeaders });
    expect(r.status).toBe(413);
    expect(r.json.error.message).toMatch(/the zip archive has 30 entries, more than the limit of 20/);

    const big: Record<string, Uint8Array> = {};
    for (let i = 0; i < 5; i++) big[`pipes/p${i}.conf.json`] = pipe(`p${i}`, { description: randomBytes(600_000).toString('base64') });
    r = await api.call('PUT', '/api/config', { raw: Buffer.from(zipSync(big)), headers: zipHeaders });
    expect(r.status).toBe(413);
    expect(r.json.error.message).toMatch(/inflate to more than the limit of 2.9 MiB/);
    expect((await api.call('GET', '/api/config')).json).toEqual([]);

    const { deflated, crc } = await spacesDeflated(2);
    r = await api.call('PUT', '/api/config', { raw: oneEntryZip('pipes/spaces.conf.json', deflated, 2 * 1024 * 1024, crc), headers: zipHeaders });
    expect(r.status).toBe(413);
    expect(r.json.error.message).toMatch(/zip entry "pipes\/spaces.conf.json" inflates to more than 50 times its compressed size of \d+ bytes/);

    r = await api.call('PUT', '/api/config', { raw: Buffer.from(zipSync({ 'pipes/a.conf.json': pipe('a'), 'README.md': new Uint8Array(500_000) })), headers: zipHeaders });
    expect(r.status, r.text).toBe(200);
    expect(api.rt.pipe('a')).toBeDefined();
  });
});
