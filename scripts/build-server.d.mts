/** Types of build-server.mjs for the TypeScript that calls it (tests). */
export function ensureServerBuilt(options?: { root?: string; distDir?: string; log?: (message: string) => void }): Promise<string>;
