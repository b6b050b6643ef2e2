/**
 * strftime/strptime-style format strings for datetime-format and datetime-parse, compiled once per
 * format string and cached for formats that are only known at run time.
 */
import { FormatFormat } from './datetime-strftime.js';
import { ParseFormat } from './datetime-strptime.js';

export { FormatFormat } from './datetime-strftime.js';
export { ParseFormat } from './datetime-strptime.js';
export { floorDiv } from './datetime-names.js';

const parseCache = new Map<string, ParseFormat>();
const formatCache = new Map<string, FormatFormat>();

/** A compiled parse format, cached for formats that are only known at run time. */
export function parseFormat(format: string): ParseFormat {
  let f = parseCache.get(format);
  if (!f) {
    f = new ParseFormat(format);
    if (parseCache.size >= 256) parseCache.clear();
    parseCache.set(format, f);
  }
  return f;
}

/** A compiled output format, cached for formats that are only known at run time. */
export function formatFormat(format: string): FormatFormat {
  let f = formatCache.get(format);
  if (!f) {
    f = new FormatFormat(format);
    if (formatCache.size >= 256) formatCache.clear();
    formatCache.set(format, f);
  }
  return f;
}
