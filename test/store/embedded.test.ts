import { EmbeddedStore } from '../../runtime/store/embedded/store.js';
import { defineStoreContract } from './contract.js';

defineStoreContract('embedded', async (dir) => new EmbeddedStore({ dataDir: dir }));
