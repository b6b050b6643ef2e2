/** Stores other than the embedded one, for `--store <kind>`. */
import { randomUUID } from 'node:crypto';
import type { Store } from '../runtime/store/contract.js';
import { MongoStore } from '../runtime/store/mongodb/store.js';
import { startFerretDb } from '../scripts/test-services/ferretdb.js';

export async function openStoreByName(kind: string, name: string): Promise<{ store: Store; uri: string; cleanup(): Promise<void> }> {
  if (kind !== 'mongodb') throw new Error(`unknown store "${kind}" (available: embedded, mongodb)`);
  // MONGODB_URI names a server to use; otherwise a FerretDB server is started for the run.
  const server = process.env.MONGODB_URI ? null : await startFerretDb();
  const uri = process.env.MONGODB_URI ?? server!.uri;
  const database = `bench_${name}_${randomUUID().slice(0, 8)}`;
  const store = await MongoStore.open({ uri, database });
  return {
    store,
    uri: `${uri.replace(/\/$/, '')}/${database}`,
    async cleanup() {
      const admin = await MongoStore.open({ uri, database });
      await admin.db.dropDatabase().catch(() => undefined);
      await admin.close();
      await server?.stop();
    },
  };
}
