/** DTL list functions (dtl-functions-lists). */
import { family } from '../spec.js';

export default family('lists', (def) => {
  def.expression({
    name: 'list',
    doc: 'Returns a list of the argument values, in order (nulls included).',
    emit: (e) => `[${e.args().join(', ')}]`,
  });
});
