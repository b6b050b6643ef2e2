/**
 * Splits a streamed JSON response into entity texts without holding the whole body: a JSON array
 * of objects (the JSON pull protocol), or a sequence of top-level objects (one object, or NDJSON).
 * Each entity text is then parsed on its own (losslessly, see parseEntityJson).
 */

export class JsonStreamError extends Error {}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d, 0xfeff]);

export class JsonEntitySplitter {
  private buf = '';
  private pos = 0;
  /** Start of the entity being scanned in `buf`, or -1 between entities. */
  private start = -1;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private mode: 'start' | 'array' | 'values' | 'done' = 'start';
  /** In an array: an entity was just read, so `,` or `]` must follow. */
  private needComma = false;
  private sawComma = false;
  /** Entities emitted so far. */
  count = 0;
  /** Characters consumed before `buf` (for error positions). */
  private offset = 0;

  /** Feeds text; returns the entity texts completed by it. */
  push(text: string): string[] {
    this.buf += text;
    const out: string[] = [];
    const buf = this.buf;
    let i = this.pos;
    const n = buf.length;
    while (i < n) {
      const c = buf.charCodeAt(i);
      if (this.start >= 0) {
        // Inside an entity: track strings and nesting until its closing brace.
        if (this.inString) {
          if (this.escaped) this.escaped = false;
          else if (c === 0x5c) this.escaped = true;
          else if (c === 0x22) this.inString = false;
        } else if (c === 0x22) this.inString = true;
        else if (c === 0x7b || c === 0x5b) this.depth++;
        else if (c === 0x7d || c === 0x5d) {
          this.depth--;
          if (this.depth === 0) {
            out.push(buf.slice(this.start, i + 1));
            this.count++;
            this.start = -1;
            if (this.mode === 'array') this.needComma = true;
          }
        }
        i++;
        continue;
      }
      if (WS.has(c)) {
        i++;
        continue;
      }
      switch (this.mode) {
        case 'start':
          if (c === 0x5b) this.mode = 'array';
          else if (c === 0x7b) {
            this.mode = 'values';
            continue; // re-read as the first entity
          } else throw this.error(i, 'expected a JSON array of entities');
          i++;
          continue;
        case 'array':
          if (c === 0x5d) {
            if (this.sawComma && !this.needComma) throw this.error(i, 'a "," is followed by "]"');
            this.mode = 'done';
            i++;
            continue;
          }
          if (this.needComma) {
            if (c !== 0x2c) throw this.error(i, `expected "," or "]" after entity ${this.count}`);
            this.needComma = false;
            this.sawComma = true;
            i++;
            continue;
          }
          if (c === 0x2c) throw this.error(i, 'unexpected ","');
          if (c !== 0x7b) throw this.error(i, `item ${this.count + 1} of the array is not a JSON object (an entity)`);
          this.start = i;
          this.depth = 1;
          i++;
          continue;
        case 'values':
          if (c !== 0x7b) throw this.error(i, `expected a JSON object (entity ${this.count + 1}) or the end of the response`);
          this.start = i;
          this.depth = 1;
          i++;
          continue;
        case 'done':
          throw this.error(i, 'unexpected data after the end of the JSON array');
      }
    }
    // Keep only what is still needed.
    const keep = this.start >= 0 ? this.start : i;
    this.offset += keep;
    this.buf = buf.slice(keep);
    if (this.start >= 0) this.start = 0;
    this.pos = i - keep;
    return out;
  }

  /** Checks that the response ended where an entity stream may end. */
  end(emptyOk: boolean): void {
    if (this.start >= 0) throw this.error(this.pos, `the response ended inside entity ${this.count + 1}`);
    if (this.mode === 'array') throw this.error(this.pos, 'the response ended before the closing "]" of the array');
    if (this.mode === 'start' && !emptyOk) throw new JsonStreamError('the response is empty; expected a JSON array of entities');
  }

  private error(at: number, message: string): JsonStreamError {
    return new JsonStreamError(`${message} (at character ${this.offset + at + 1})`);
  }
}
