/**
 * What a pipe keeps in the store besides its pipe state and its sink dataset: internal datasets
 * and small documents named after the pipe. Their owners register how they name them here, so that
 * deleting a pipe can remove them (node metadata `pipe_cleanup_after_deletion`, see
 * service/pipe-cleanup.ts) without knowing every component.
 */

type Name = (pipeId: string) => string;

const datasets: Name[] = [];
const documents: Name[] = [];

/** Registers an internal dataset a pipe owns; returns the naming function for its owner to use. */
export function pipeOwnedDataset(name: Name): Name {
  datasets.push(name);
  return name;
}

/** Registers a store document (`setMeta` key) a pipe owns; returns the naming function for its owner to use. */
export function pipeOwnedDocument(name: Name): Name {
  documents.push(name);
  return name;
}

/** The datasets and documents pipe `pipeId` owns (those that exist or not). */
export function ownedByPipe(pipeId: string): { datasets: string[]; documents: string[] } {
  return { datasets: datasets.map((n) => n(pipeId)), documents: documents.map((n) => n(pipeId)) };
}
