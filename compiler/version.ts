/** Recorded in every plan so a runtime can tell which compiler made it. */
export const COMPILER_VERSION = '0.1.0';
