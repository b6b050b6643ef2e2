/** Access to the test MongoDB-protocol server from suites. */
import { inject, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { MongoStore } from '../../runtime/store/mongodb/store.js';

export function mongodbUri(): string {
  return inject('mongodbUri');
}

/** True when MongoDB suites can run; in CI a missing server is a failing test instead of a skip. */
export function mongodbAvailable(): boolean {
  const uri = mongodbUri();
  if (!uri && process.env.CI) {
    it('has a MongoDB-protocol server to test against', () => {
      throw new Error(`no MongoDB-protocol server: ${inject('mongodbProblem') || 'unknown reason'}`);
    });
  }
  return uri !== '';
}

/** A store in a database of its own (tests never see each other's data). */
export async function openMongoStore(database = `t_${randomUUID().replace(/-/g, '').slice(0, 16)}`): Promise<MongoStore> {
  return MongoStore.open({ uri: mongodbUri(), database });
}
