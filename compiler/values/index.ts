export * from './types.js';
export * from './datetime.js';
export * from './transit.js';
export * from './json.js';
export * from './compare.js';
export { parseJsonLossless, numberFromText, JsonSyntaxError } from './lossless-json.js';
