/** Two chained pipes that two runtimes share through one database. */
export const LEASE_ENTITIES = 3000;

export const leaseConfig = [
  {
    _id: 'upper',
    type: 'pipe',
    batch_size: 50,
    source: { type: 'dataset', dataset: 'names' },
    // sleep! stretches the run so that the test can kill its runtime in the middle of it.
    transform: { type: 'dtl', rules: { default: [['copy', '_id'], ['add', 'name', ['upper', '_S.name']], ['sleep!', 0.004]] } },
    pump: { schedule_interval: 1 },
  },
  {
    _id: 'initials',
    type: 'pipe',
    source: { type: 'dataset', dataset: 'upper' },
    transform: { type: 'dtl', rules: { default: [['copy', '_id'], ['add', 'initial', ['substring', 0, 1, '_S.name']]] } },
    pump: { schedule_interval: 1 },
  },
];
