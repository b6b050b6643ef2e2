/**
 * The LDAP system and source against OpenLDAP (slapd) started by the suite on private ports,
 * plain and LDAPS: every documented option, paging, charsets, binary attributes, binds, TLS
 * checks, empty results, and servers that are down, refuse or never answer.
 */
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_DN, ADMIN_PASSWORD, BASE_DN, slapdInstalled, startSlapd, type RunningSlapd } from '../../scripts/test-services/slapd.js';
import { freePort } from '../../scripts/test-services/ports.js';
import { Bytes } from '../../compiler/values/types.js';
import type { SluiceRuntime } from '../../runtime/service/runtime.js';
import type { StoredEntity } from '../../runtime/store/contract.js';
import { collect, configure, openRuntime } from '../support/runtime.js';

const available = slapdInstalled();
if (!available && process.env.CI) throw new Error('slapd and ldap-utils must be installed in CI (scripts/ci/apt-packages.sh)');

const PHOTO = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01]);
const people = ['ada', 'alan', 'barbara', 'edsger', 'grace', 'john', 'orjan'];

function ldif(): string {
  const out = [`dn: ou=people,${BASE_DN}\nobjectClass: organizationalUnit\nou: people\n`, `dn: ou=groups,${BASE_DN}\nobjectClass: organizationalUnit\nou: groups\n`];
  for (const [i, uid] of people.entries()) {
    const lines = [`dn: uid=${uid},ou=people,${BASE_DN}`, 'objectClass: inetOrgPerson', `uid: ${uid}`, `cn: ${uid[0].toUpperCase()}${uid.slice(1)}`, `sn: Person${i}`, `mail: ${uid}@example.org`, `userPassword: pw-${uid}`, `employeeNumber: ${i}`];
    if (uid === 'grace') lines.push('mail: admiral@example.org');
    if (uid === 'orjan') lines.push(`description:: ${Buffer.from('Ørjan Ås', 'utf8').toString('base64')}`);
    if (uid === 'ada') lines.push(`jpegPhoto:: ${PHOTO.toString('base64')}`);
    out.push(`${lines.join('\n')}\n`);
  }
  out.push(`dn: cn=pioneers,ou=groups,${BASE_DN}\nobjectClass: groupOfNames\ncn: pioneers\nmember: uid=ada,ou=people,${BASE_DN}\n`);
  return out.join('\n');
}

let slapd: RunningSlapd;
beforeAll(async () => {
  if (!available) return;
  slapd = await startSlapd({ tls: true });
  slapd.add(ldif());
});
afterAll(async () => slapd?.stop());

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

async function runtime(): Promise<SluiceRuntime> {
  const rt = await openRuntime();
  cleanups.push(() => rt.close());
  return rt;
}

const system = (extra: Record<string, unknown> = {}) => ({ _id: 'directory', type: 'system:ldap', host: '127.0.0.1', port: slapd.port, ...extra });
const pipe = (source: Record<string, unknown> = {}, pump: Record<string, unknown> = {}) => ({ _id: 'people', type: 'pipe', source: { type: 'ldap', system: 'directory', search_base: `ou=people,${BASE_DN}`, ...source }, pump });

async function read(systemExtra: Record<string, unknown>, source: Record<string, unknown> = {}, pump: Record<string, unknown> = {}) {
  const rt = await runtime();
  await configure(rt, [system(systemExtra), pipe(source, pump)]);
  const out = await rt.runPipe('people');
  const entities = (await collect(rt.store.scan('people', { history: false }))) as StoredEntity[];
  return { rt, out, entities: entities.filter((e) => !e._deleted), byId: Object.fromEntries(entities.map((e) => [e._id, e])) };
}

describe.skipIf(!available)('the ldap source', () => {
  it('reads every person under search_base with the defaults: _id from cn, the dn, single values as is and several as lists', async () => {
    const { out, entities, byId } = await read({});
    expect(out.status).toBe('completed');
    expect(entities.map((e) => e._id).sort()).toEqual(['Ada', 'Alan', 'Barbara', 'Edsger', 'Grace', 'John', 'Orjan']);
    expect(byId.Grace).toMatchObject({ dn: `uid=grace,ou=people,${BASE_DN}`, cn: 'Grace', uid: 'grace', sn: 'Person4', employeeNumber: '4', objectClass: 'inetOrgPerson' });
    expect(byId.Grace.mail).toEqual(['grace@example.org', 'admiral@example.org']);
    expect(byId.Alan.mail).toBe('alan@example.org');
  });

  it('finds the naming context itself when search_base is "*"', async () => {
    const { out, entities } = await read({}, { search_base: '*' });
    expect(out.status).toBe('completed');
    expect(entities).toHaveLength(people.length);
  });

  it('applies search_filter, attributes, id_attribute and attribute_blacklist', async () => {
    const { entities, byId } = await read({}, { search_filter: '(|(uid=ada)(uid=grace))', attributes: 'uid, mail, userPassword', id_attribute: 'uid', attribute_blacklist: ['userPassword'] });
    expect(entities.map((e) => e._id).sort()).toEqual(['ada', 'grace']);
    expect(Object.keys(byId.ada).filter((k) => !k.startsWith('_')).sort()).toEqual(['dn', 'mail', 'uid']);

    const groups = await read({}, { search_base: `ou=groups,${BASE_DN}`, search_filter: '(objectClass=groupOfNames)', attributes: ['cn', 'member'] });
    expect(groups.byId.pioneers).toMatchObject({ cn: 'pioneers', member: `uid=ada,ou=people,${BASE_DN}` });
  });

  it('pages through the directory page_size entries at a time', async () => {
    const before = slapd.log().length;
    const { out, entities } = await read({}, { page_size: 2 }, { batch_size: 3 });
    expect(out.status).toBe('completed');
    expect(entities).toHaveLength(people.length);
    const searches = slapd.log().slice(before).match(/SRCH base="ou=people,dc=example,dc=org"/g) ?? [];
    expect(searches).toHaveLength(Math.ceil(people.length / 2));
  });

  it('decodes values in the system charset (latin-1 by default) and keeps binary attributes as bytes', async () => {
    const latin = await read({});
    expect(latin.byId.Orjan.description).toBe(Buffer.from('Ørjan Ås', 'utf8').toString('latin1'));
    const photo = latin.byId.Ada.jpegPhoto as unknown as Bytes;
    expect(photo).toBeInstanceOf(Bytes);
    expect(Buffer.from(photo.data)).toEqual(PHOTO);

    const utf8 = await read({ charset: 'utf-8' });
    expect(utf8.byId.Orjan.description).toBe('Ørjan Ås');
  });

  it('binds with username and password, and reports a refused bind', async () => {
    const ok = await read({ username: ADMIN_DN, password: ADMIN_PASSWORD });
    expect(ok.out.status).toBe('completed');
    expect(ok.entities).toHaveLength(people.length);

    const refused = await read({ username: ADMIN_DN, password: 'wrong' });
    expect(refused.out.status).toBe('failed');
    expect(refused.out.error).toMatch(/the LDAP server ldap:\/\/127\.0\.0\.1:\d+ \(system "directory"\) refused the bind as "cn=admin,dc=example,dc=org"/);
    expect(refused.entities).toHaveLength(0);
  });

  it('connects with LDAPS: verify_ssl with custom_ca_pem_chain, without verification, and refuses an unknown certificate', async () => {
    const verified = await read({ port: slapd.tlsPort, use_ssl: true, custom_ca_pem_chain: slapd.certificatePem });
    expect(verified.out.status).toBe('completed');
    expect(verified.entities).toHaveLength(people.length);

    const unverified = await read({ port: slapd.tlsPort, use_ssl: true, verify_ssl: false });
    expect(unverified.out.status).toBe('completed');

    const unknown = await read({ port: slapd.tlsPort, use_ssl: true });
    expect(unknown.out.status).toBe('failed');
    expect(unknown.out.error).toMatch(/ldaps:\/\/127\.0\.0\.1:\d+ \(system "directory"\): the TLS connection failed/);
  });

  it('fails an empty search with if_source_empty "fail" and keeps the dataset; "accept" lets deletion tracking empty it', async () => {
    const rt = await runtime();
    await configure(rt, [system(), pipe()]);
    await rt.runPipe('people');
    await configure(rt, [system(), pipe({ search_filter: '(uid=nobody)', if_source_empty: 'fail' })]);
    const failed = await rt.runPipe('people');
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/found no entries and "if_source_empty" is "fail"/);
    const kept = (await collect(rt.store.scan('people', { history: false }))).filter((e) => !e._deleted);
    expect(kept).toHaveLength(people.length);

    await configure(rt, [system(), pipe({ search_filter: '(uid=nobody)' })]);
    expect((await rt.runPipe('people')).status).toBe('completed');
    expect((await collect(rt.store.scan('people', { history: false }))).filter((e) => !e._deleted)).toHaveLength(0);
  });

  it('fails clearly on entries without the id attribute, bad filters and missing bases', async () => {
    const noId = await read({}, { search_base: BASE_DN, search_filter: '(objectClass=organizationalUnit)' });
    expect(noId.out.status).toBe('failed');
    expect(noId.out.error).toMatch(/the entry "ou=\w+,dc=example,dc=org" has no "cn" attribute \(id_attribute\)/);
    expect(noId.entities).toHaveLength(0);

    const badFilter = await read({}, { search_filter: '(uid=ada' });
    expect(badFilter.out.status).toBe('failed');
    expect(badFilter.out.error).toMatch(/pipe "people": the ldap source: the LDAP server .* the search failed/);

    const noBase = await read({}, { search_base: `ou=nowhere,${BASE_DN}` });
    expect(noBase.out.status).toBe('failed');
    expect(noBase.out.error).toMatch(/the search failed: .*\(LDAP result 32\)/);
  });

  it('reports a server that is down, and one that never answers within read_timeout', async () => {
    const down = await read({ port: await freePort() });
    expect(down.out.status).toBe('failed');
    expect(down.out.error).toMatch(/could not be reached \(ECONNREFUSED\)/);

    const sockets = new Set<net.Socket>();
    const silent = net.createServer((s) => sockets.add(s.on('error', () => undefined)));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => (sockets.forEach((s) => s.destroy()), silent.close(() => resolve()))));
    const hung = await read({ port: (silent.address() as net.AddressInfo).port, read_timeout: 1, connect_timeout: 1 });
    expect(hung.out.status).toBe('failed');
    expect(hung.out.error).toMatch(/did not answer in time/);
  });

  it('refuses a URL as host and a bind without password before reading', async () => {
    const rt = await runtime();
    await configure(rt, [system({ host: 'ldap://example.org' }), pipe()]);
    expect(rt.instantiationErrors.get('people')).toMatch(/"host" is a URL/);
    await configure(rt, [system({ username: 'cn=x' }), pipe()]);
    expect(rt.instantiationErrors.get('people')).toMatch(/"password" is required when "username" is set/);
    await configure(rt, [system({ charset: 'klingon-8' }), pipe()]);
    expect(rt.instantiationErrors.get('people')).toMatch(/unknown charset "klingon-8"/);
  });
});
