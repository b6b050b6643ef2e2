/**
 * Unified diffs of two texts, in the format of Python's `difflib.unified_diff` (the Sesam client
 * prints its comparisons that way): `--- from` / `+++ to` headers, `@@ -a,b +c,d @@` hunks with
 * three lines of context. The line matching is a Myers diff after trimming the common start and
 * end; very large, very different middles are shown as one replaced block.
 */

type Op = ['equal' | 'replace' | 'delete' | 'insert', number, number, number, number];

/** Lines with their line ends, like Python's `readlines()`. */
export function splitLines(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      out.push(text.slice(start, i + 1));
      start = i + 1;
    }
  }
  if (start < text.length) out.push(text.slice(start));
  return out;
}

const MAX_EDIT_DISTANCE = 3000;

/** Myers' shortest edit script over a[lo1..hi1) and b[lo2..hi2); null when it exceeds the bound. */
function myers(a: string[], b: string[], lo1: number, hi1: number, lo2: number, hi2: number): Op[] | null {
  const n = hi1 - lo1;
  const m = hi2 - lo2;
  const max = Math.min(n + m, MAX_EDIT_DISTANCE);
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  let found = -1;
  for (let d = 0; d <= max; d++) {
    // The part of V the backtrack needs for this round (diagonals -d-1 .. d+1).
    trace.push(v.slice(offset - d - 1, offset + d + 2));
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1] < v[offset + k + 1]) ? v[offset + k + 1] : v[offset + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && a[lo1 + x] === b[lo2 + y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        found = d;
        break;
      }
    }
    if (found >= 0) break;
  }
  if (found < 0) return null;
  // Walk back through the trace to collect (x, y) steps, then turn them into opcodes.
  const steps: ('=' | '-' | '+')[] = [];
  let x = n;
  let y = m;
  for (let d = found; d > 0; d--) {
    const vd = trace[d];
    const at = (kk: number) => vd[kk + d + 1];
    const k = x - y;
    const down = k === -d || (k !== d && at(k - 1) < at(k + 1));
    const prevK = down ? k + 1 : k - 1;
    const prevX = at(prevK);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      steps.push('=');
      x--;
      y--;
    }
    steps.push(down ? '+' : '-');
    if (down) y--;
    else x--;
  }
  while (x > 0 && y > 0) {
    steps.push('=');
    x--;
    y--;
  }
  steps.reverse();
  const ops: Op[] = [];
  let i = lo1;
  let j = lo2;
  let s = 0;
  while (s < steps.length) {
    if (steps[s] === '=') {
      const i0 = i;
      const j0 = j;
      while (s < steps.length && steps[s] === '=') {
        i++;
        j++;
        s++;
      }
      ops.push(['equal', i0, i, j0, j]);
    } else {
      const i0 = i;
      const j0 = j;
      while (s < steps.length && steps[s] !== '=') {
        if (steps[s] === '-') i++;
        else j++;
        s++;
      }
      ops.push([i > i0 && j > j0 ? 'replace' : i > i0 ? 'delete' : 'insert', i0, i, j0, j]);
    }
  }
  return ops;
}

function opcodes(a: string[], b: string[]): Op[] {
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const ops: Op[] = [];
  if (pre) ops.push(['equal', 0, pre, 0, pre]);
  const hi1 = a.length - suf;
  const hi2 = b.length - suf;
  if (pre < hi1 || pre < hi2) {
    const mid = myers(a, b, pre, hi1, pre, hi2) ?? [[pre < hi1 && pre < hi2 ? 'replace' : pre < hi1 ? 'delete' : 'insert', pre, hi1, pre, hi2] as Op];
    ops.push(...mid);
  }
  if (suf) ops.push(['equal', hi1, a.length, hi2, b.length]);
  if (!ops.length) ops.push(['equal', 0, 0, 0, 0]);
  return ops;
}

/** Hunks with `n` lines of context, as difflib's `get_grouped_opcodes`. */
function grouped(ops: Op[], n: number): Op[][] {
  const codes = ops.map((o) => [...o] as Op);
  if (codes[0][0] === 'equal') {
    const [, i1, i2, j1, j2] = codes[0];
    codes[0] = ['equal', Math.max(i1, i2 - n), i2, Math.max(j1, j2 - n), j2];
  }
  const last = codes.length - 1;
  if (codes[last][0] === 'equal') {
    const [, i1, i2, j1, j2] = codes[last];
    codes[last] = ['equal', i1, Math.min(i2, i1 + n), j1, Math.min(j2, j1 + n)];
  }
  const nn = n + n;
  const groups: Op[][] = [];
  let group: Op[] = [];
  for (const [tag, i1, i2, j1, j2] of codes) {
    let a1 = i1;
    let b1 = j1;
    if (tag === 'equal' && i2 - i1 > nn) {
      group.push(['equal', i1, Math.min(i2, i1 + n), j1, Math.min(j2, j1 + n)]);
      groups.push(group);
      group = [];
      a1 = Math.max(i1, i2 - n);
      b1 = Math.max(j1, j2 - n);
    }
    group.push([tag, a1, i2, b1, j2]);
  }
  if (group.length && !(group.length === 1 && group[0][0] === 'equal')) groups.push(group);
  return groups;
}

function range(start: number, stop: number): string {
  let beginning = start + 1;
  const length = stop - start;
  if (length === 1) return String(beginning);
  if (!length) beginning -= 1;
  return `${beginning},${length}`;
}

function line(prefix: string, text: string): string {
  return prefix + (text.endsWith('\n') ? text : text + '\n');
}

/** A unified diff of two texts; empty when they are equal. */
export function unifiedDiff(a: string, b: string, fromFile: string, toFile: string, context = 3): string {
  const al = splitLines(a);
  const bl = splitLines(b);
  const out: string[] = [];
  for (const group of grouped(opcodes(al, bl), context)) {
    if (!out.length) out.push(`--- ${fromFile}\n`, `+++ ${toFile}\n`);
    const first = group[0];
    const lastOp = group[group.length - 1];
    out.push(`@@ -${range(first[1], lastOp[2])} +${range(first[3], lastOp[4])} @@\n`);
    for (const [tag, i1, i2, j1, j2] of group) {
      if (tag === 'equal') {
        for (let i = i1; i < i2; i++) out.push(line(' ', al[i]));
        continue;
      }
      if (tag === 'replace' || tag === 'delete') for (let i = i1; i < i2; i++) out.push(line('-', al[i]));
      if (tag === 'replace' || tag === 'insert') for (let j = j1; j < j2; j++) out.push(line('+', bl[j]));
    }
  }
  return out.join('');
}
