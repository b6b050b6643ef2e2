import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';

/** The public vectors sit beside the checkout: ../shared/conformance/dtl from the repository root. */
export const DEFAULT_CONFORMANCE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/conformance/dtl');

/** The project's own vectors, in the same format: semantics fixed for real configurations. */
export const OWN_CONFORMANCE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../test/conformance/dtl');
