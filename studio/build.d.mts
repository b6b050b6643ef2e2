export function studioIsStale(): boolean;
export function buildStudio(options?: { force?: boolean; quiet?: boolean }): void;
