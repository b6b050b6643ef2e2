/**
 * The JSON grammar shared by the parsers that need more than JSON.parse gives: integers kept exact,
 * floats told apart from integers, objects of the caller's choosing, Python's extra words. The
 * caller decides what numbers, objects and errors become; this module only walks the text.
 */

export interface JsonScanOptions<V, O extends V> {
  newObject(): O;
  setKey(object: O, key: string, value: V): void;
  /** A number literal; `isFloat` when it has a fraction or an exponent. */
  number(text: string, isFloat: boolean): V;
  /** Bare words accepted as values besides true, false and null (Python's NaN and Infinity). */
  words?: ReadonlyArray<readonly [string, V]>;
  error(message: string, offset: number): Error;
}

const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?/y;
const HEX4 = /^[0-9a-fA-F]{4}$/;
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/** Parses the whole of `text` from `start`; anything but whitespace after the value is an error. */
export function scanJson<V, O extends V>(text: string, options: JsonScanOptions<V, O>, start = 0): V {
  const n = text.length;
  const words = options.words ?? [];
  let i = start;
  const fail = (message: string): never => {
    throw options.error(message, i);
  };
  const ws = () => {
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c !== 32 && c !== 9 && c !== 10 && c !== 13) break;
    }
  };
  const str = (): string => {
    // text[i] is the opening quote
    let out = '';
    let from = ++i;
    for (;;) {
      if (i >= n) fail('unterminated string');
      const c = text.charCodeAt(i);
      if (c === 34) {
        out += text.slice(from, i++);
        return out;
      }
      if (c === 92) {
        out += text.slice(from, i);
        const e = text[i + 1];
        if (e === 'u') {
          const hex = text.slice(i + 2, i + 6);
          if (!HEX4.test(hex)) fail('invalid \\u escape');
          out += String.fromCharCode(parseInt(hex, 16));
          i += 6;
        } else {
          const decoded = e === undefined ? undefined : ESCAPES[e];
          if (decoded === undefined) fail('invalid escape');
          out += decoded;
          i += 2;
        }
        from = i;
        continue;
      }
      if (c < 32) fail('invalid control character in string');
      i++;
    }
  };
  const value = (): V => {
    ws();
    if (i >= n) fail('expecting value');
    const c = text[i];
    if (c === '{') {
      i++;
      const o = options.newObject();
      ws();
      if (text[i] === '}') {
        i++;
        return o;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expecting property name enclosed in double quotes');
        const k = str();
        ws();
        if (text[i] !== ':') fail("expecting ':' delimiter");
        i++;
        options.setKey(o, k, value());
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return o;
        }
        fail("expecting ',' delimiter");
      }
    }
    if (c === '[') {
      i++;
      const a: V[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return a as V;
      }
      for (;;) {
        a.push(value());
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return a as V;
        }
        fail("expecting ',' delimiter");
      }
    }
    if (c === '"') return str() as V;
    if (text.startsWith('true', i)) {
      i += 4;
      return true as V;
    }
    if (text.startsWith('false', i)) {
      i += 5;
      return false as V;
    }
    if (text.startsWith('null', i)) {
      i += 4;
      return null as V;
    }
    for (const [word, v] of words) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (!m) return fail('expecting value');
    i += m[0].length;
    return options.number(m[0], m[1] !== undefined || m[2] !== undefined);
  };
  const v = value();
  ws();
  if (i < n) fail('extra data');
  return v;
}
