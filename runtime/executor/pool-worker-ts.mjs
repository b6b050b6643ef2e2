// The pool's worker entry when Sluice runs from its TypeScript sources (a checkout, the tests):
// worker threads do not inherit the main thread's tsx registration, so it is made here first.
import { register } from 'tsx/esm/api';

register();
const worker = await import('./pool-worker.ts');
export default worker.default;
