/** Opens the store a URI names: "embedded" (a data directory) or another registered kind. */
import { EmbeddedStore } from './embedded/store.js';
import type { Store } from './contract.js';

export type StoreOpener = (uri: string, options: { dataDir: string }) => Promise<Store>;

const openers: { matches(uri: string): boolean; open: StoreOpener }[] = [
  { matches: (uri) => uri === 'embedded' || uri === '' || uri.startsWith('embedded:'), open: async (_uri, { dataDir }) => new EmbeddedStore({ dataDir }) },
  {
    matches: (uri) => uri.startsWith('mongodb://') || uri.startsWith('mongodb+srv://'),
    open: async (uri) => {
      // Loaded on demand: the embedded default never needs the driver.
      const { MongoStore } = await import('./mongodb/store.js');
      return MongoStore.open({ uri, database: new URL(uri.replace(/^mongodb(\+srv)?:/, 'http:')).pathname.slice(1) || 'sluice' });
    },
  },
];

/** Lets another store implementation plug in (the MongoDB store registers itself). */
export function registerStore(matches: (uri: string) => boolean, open: StoreOpener): void {
  openers.unshift({ matches, open });
}

export async function openStore(uri: string, options: { dataDir: string }): Promise<Store> {
  const opener = openers.find((o) => o.matches(uri));
  if (!opener) throw new Error(`unknown store "${uri}": use "embedded" or a supported URI`);
  return opener.open(uri, options);
}
