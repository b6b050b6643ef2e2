/** The pipes the crash test runs: dataset → DTL → dataset, twice in a chain. */
export const crashConfig = [
  {
    _id: 'enriched',
    type: 'pipe',
    source: { type: 'dataset', dataset: 'people' },
    transform: {
      type: 'dtl',
      rules: {
        default: [
          ['copy', '_id'],
          ['add', 'name', ['concat', '_S.first', ' ', '_S.last']],
          ['add', 'score', ['*', '_S.n', 3]],
          ['filter', ['neq', ['%', '_S.n', 10], 7]],
        ],
      },
    },
  },
  {
    _id: 'summary',
    type: 'pipe',
    source: { type: 'dataset', dataset: 'enriched' },
    transform: { type: 'dtl', rules: { default: [['copy', '_id'], ['add', 'upper', ['upper', '_S.name']], ['add', 'big', ['gt', '_S.score', 150000]]] } },
  },
];

export function person(i: number): Record<string, unknown> {
  return { _id: `p${i}`, first: `First${i}`, last: `Last${i % 97}`, n: i };
}
