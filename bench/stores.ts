/** Stores other than the embedded one, for `--store <kind>` (the MongoDB store registers here). */
import type { Store } from '../runtime/store/contract.js';

export async function openStoreByName(kind: string, name: string): Promise<{ store: Store; cleanup(): Promise<void> }> {
  void name;
  throw new Error(`unknown store "${kind}" (available: embedded)`);
}
