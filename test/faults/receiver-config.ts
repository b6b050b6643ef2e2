/** The receiver pipe of the atomic-receiver tests: http_endpoint → DTL → dataset "received". */
export const inboxConfig = [
  {
    _id: 'inbox',
    type: 'pipe',
    source: { type: 'http_endpoint' },
    transform: { type: 'dtl', rules: { default: [['copy', '*'], ['add', 'seen', true]] } },
    sink: { type: 'dataset', dataset: 'received' },
  },
];

/** `n` entities tagged with the request (`round`) they were posted in. */
export function roundEntities(round: number, n: number): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => ({ _id: `e${i}`, round, text: `entity ${i} of request ${round}`.padEnd(120, '.') }));
}
