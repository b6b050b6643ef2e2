/**
 * The LDAP source: a paged subtree search (`search_base`, `search_filter`, `attributes`,
 * `page_size`) against an LDAP system. Each entry becomes an entity: `_id` from `id_attribute`,
 * `dn`, and its attributes (one value as is, several as a list) decoded in the system's charset,
 * except binary attributes (photos, certificates, GUIDs, `;binary`), which stay bytes. There is no
 * `since`: every run is a full run, so the sink's deletion tracking sees the whole directory.
 */
import schema from '../../../schemas/sources/ldap.schema.json' with { type: 'json' };
import type { Client, Entry } from 'ldapts';
import { Bytes, type Entity, type Value } from '../../../compiler/values/types.js';
import { LdapError, ldapConnectorFor } from '../systems/ldap.js';
import type { SourceSpec } from '../types.js';

/** Attributes whose values are binary in common schemas (OpenLDAP, Active Directory). */
const BINARY = new Set(
  ['jpegPhoto', 'photo', 'thumbnailPhoto', 'thumbnailLogo', 'audio', 'userCertificate', 'cACertificate', 'certificateRevocationList', 'authorityRevocationList', 'crossCertificatePair', 'userPKCS12', 'userSMIMECertificate', 'objectGUID', 'objectSid', 'msExchMailboxGuid', 'msExchMailboxSecurityDescriptor', 'nTSecurityDescriptor', 'logonHours', 'sIDHistory', 'tokenGroups', 'mS-DS-ConsistencyGuid'].map((a) => a.toLowerCase()),
);

/** Asks ldapts for every attribute's raw bytes (it decodes UTF-8 otherwise; the charset is ours to apply). */
class EveryAttribute extends Array<string> {
  override includes(): boolean {
    return true;
  }
}

function attributeList(value: unknown): string[] {
  const list = Array.isArray(value) ? value.map(String) : String(value ?? '*').split(',');
  const names = list.map((a) => a.trim()).filter((a) => a !== '');
  return names.length ? names : ['*'];
}

export const ldapSource: SourceSpec = {
  kind: 'source',
  type: 'ldap',
  doc: 'Reads the entries of an LDAP directory with a paged subtree search: one entity per entry, _id from id_attribute, the dn and the attributes (single values as is, several as lists, binary attributes as bytes) decoded in the system charset; attribute_blacklist leaves attributes out. Every run is a full run.',
  schema,
  create(component, ctx) {
    const c = component.config;
    const what = `pipe "${ctx.pipe.id}": the ldap source`;
    const connector = ldapConnectorFor(ctx, c.system, 'the ldap source');
    const searchBase = typeof c.search_base === 'string' ? c.search_base : '*';
    const filter = typeof c.search_filter === 'string' ? c.search_filter : '(objectClass=organizationalPerson)';
    const attributes = attributeList(c.attributes);
    const idAttribute = typeof c.id_attribute === 'string' && c.id_attribute ? c.id_attribute : 'cn';
    const pageSize = typeof c.page_size === 'number' && c.page_size > 0 ? c.page_size : 500;
    const blacklist = new Set(((c.attribute_blacklist ?? []) as string[]).map((a) => a.toLowerCase()));
    const failIfEmpty = c.if_source_empty === 'fail';

    const valueOf = (name: string, raw: Buffer): Value => {
      const base = name.toLowerCase().split(';')[0];
      if (BINARY.has(base) || /;binary$/i.test(name)) return new Bytes(new Uint8Array(raw));
      return connector.decode(raw);
    };

    const toEntity = (entry: Entry): Entity => {
      const e: Entity = { _id: '' };
      let id: string | undefined;
      for (const [name, raw] of Object.entries(entry)) {
        if (name === 'dn') continue;
        const buffers = (Array.isArray(raw) ? raw : [raw]) as Buffer[];
        const values = buffers.map((b) => valueOf(name, Buffer.isBuffer(b) ? b : Buffer.from(String(b))));
        if (name.toLowerCase() === idAttribute.toLowerCase() && values.length) id = String(values[0] instanceof Bytes ? Buffer.from(values[0].data).toString('hex') : values[0]);
        if (blacklist.has(name.toLowerCase()) || values.length === 0) continue;
        e[name] = values.length === 1 ? values[0] : values;
      }
      if (id === undefined) throw new LdapError(`${what}: the entry "${entry.dn}" has no "${idAttribute}" attribute (id_attribute) to take the _id from`, 'LDAP_SEARCH');
      e._id = id;
      e.dn = entry.dn;
      return e;
    };

    /** The directory's naming context, for search_base "*". */
    const defaultBase = async (client: Client): Promise<string> => {
      const { searchEntries } = await client.search('', { scope: 'base', filter: '(objectClass=*)', attributes: ['defaultNamingContext', 'namingContexts'] });
      const root = searchEntries[0] ?? {};
      const pick = (v: unknown) => (Array.isArray(v) ? v[0] : v);
      const base = pick(root.defaultNamingContext) ?? pick(root.namingContexts);
      if (typeof base !== 'string' || !base) throw new LdapError(`${what}: search_base is "*" but the server names no naming context in its root DSE; set "search_base"`, 'LDAP_SEARCH');
      return base;
    };

    return {
      supportsSince: false,
      datasets: [],
      async *read({ batchSize, run }) {
        const client = await connector.connect(what);
        const stop = () => void client.unbind().catch(() => undefined);
        run.signal.addEventListener('abort', stop, { once: true });
        let total = 0;
        try {
          let base: string;
          let pages: AsyncGenerator<{ searchEntries: Entry[] }>;
          try {
            base = searchBase === '*' ? await defaultBase(client) : searchBase;
            pages = client.searchPaginated(base, { scope: 'sub', filter, attributes, explicitBufferAttributes: new EveryAttribute(), paged: { pageSize } });
          } catch (err) {
            throw connector.describe(err, what, 'search');
          }
          let batch: Entity[] = [];
          for (;;) {
            let page: IteratorResult<{ searchEntries: Entry[] }>;
            try {
              page = await pages.next();
            } catch (err) {
              if (run.signal.aborted) return;
              throw connector.describe(err, what, 'search');
            }
            if (page.done) break;
            for (const entry of page.value.searchEntries) {
              batch.push(toEntity(entry));
              total++;
              if (batch.length >= batchSize) {
                yield { entities: batch, since: null };
                batch = [];
              }
            }
          }
          if (total === 0 && failIfEmpty) throw new LdapError(`${what}: the search of "${base}" for ${filter} found no entries and "if_source_empty" is "fail"; the run fails so that nothing is deleted`, 'LDAP_SEARCH');
          if (batch.length) yield { entities: batch, since: null };
        } finally {
          run.signal.removeEventListener('abort', stop);
          await client.unbind().catch(() => undefined);
        }
      },
    };
  },
};
