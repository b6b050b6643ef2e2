/** DTL strings functions (see the family's doc page). */
import { family } from '../spec.js';

export default family('strings', () => {});
