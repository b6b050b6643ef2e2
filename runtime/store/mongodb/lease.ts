/**
 * Leases: a pipe is run by at most one runtime at a time when several share a MongoDB database.
 * A lease is a document {_id: pipe, holder, expires}; the holder renews it while it lives, and any
 * runtime may take it once it has expired (its holder died or lost the database).
 */
import type { Collection } from 'mongodb';
import type { LeaseStore } from '../contract.js';

type LeaseDoc = { _id: string; holder: string; expires: Date };

const DUPLICATE_KEY = 11000;

export class MongoLeases implements LeaseStore {
  constructor(private readonly leases: Collection<LeaseDoc>) {}

  async acquireLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const now = new Date();
    const expires = new Date(now.getTime() + ttlMs);
    try {
      // Take it when it is free, expired or already ours; a live lease of another holder does not match.
      const r = await this.leases.updateOne({ _id: name, $or: [{ holder }, { expires: { $lt: now } }] }, { $set: { holder, expires } }, { upsert: true });
      return r.matchedCount + r.upsertedCount > 0;
    } catch (err) {
      // The upsert collided with a live lease of another holder.
      if ((err as { code?: number }).code === DUPLICATE_KEY) return false;
      throw err;
    }
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    await this.leases.deleteOne({ _id: name, holder });
  }

  async leaseHolder(name: string): Promise<{ holder: string; expires: Date } | null> {
    const d = await this.leases.findOne({ _id: name });
    return d && d.expires.getTime() > Date.now() ? { holder: d.holder, expires: d.expires } : null;
  }
}
