import { describe } from 'vitest';
import { defineStoreContract } from './contract.js';
import { mongodbAvailable, openMongoStore } from '../support/mongodb.js';

// One database per test directory: reopening finds the same data.
const databases = new Map<string, string>();

if (mongodbAvailable()) {
  defineStoreContract('mongodb', async (dir) => {
    if (!databases.has(dir)) databases.set(dir, `c_${databases.size}_${process.pid}_${Date.now() % 100000}`);
    return openMongoStore(databases.get(dir));
  });
} else {
  describe.skip('store contract: mongodb (no MongoDB-protocol server here)', () => undefined);
}
