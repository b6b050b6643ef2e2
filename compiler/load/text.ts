/**
 * Text of the files Sluice reads. Editors on Windows, and Sesam's own client when it writes env
 * files, start UTF-8 files with a byte order mark; it is not part of the content, so every reader
 * drops it before parsing and before positions are counted.
 */
import { readFileSync } from 'node:fs';

export function withoutByteOrderMark(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** A UTF-8 text file, without its byte order mark. */
export function readTextFile(path: string): string {
  return withoutByteOrderMark(readFileSync(path, 'utf8'));
}
