/**
 * JSON parser that keeps positions, built with Chevrotain (embedded actions, in the style of its
 * JSON grammar example). Config text is small, so clarity and exact locations beat raw speed here;
 * entity payloads use JSON.parse instead.
 */
import { createToken, EmbeddedActionsParser, Lexer, type IToken } from 'chevrotain';
import type { Diagnostic } from '../diagnostics.js';
import type { Loc, PEntry, PNode } from './tree.js';
import { withoutByteOrderMark } from '../load/text.js';

const LCurly = createToken({ name: 'LCurly', pattern: /{/, label: "'{'" });
const RCurly = createToken({ name: 'RCurly', pattern: /}/, label: "'}'" });
const LSquare = createToken({ name: 'LSquare', pattern: /\[/, label: "'['" });
const RSquare = createToken({ name: 'RSquare', pattern: /]/, label: "']'" });
const Comma = createToken({ name: 'Comma', pattern: /,/, label: "','" });
const Colon = createToken({ name: 'Colon', pattern: /:/, label: "':'" });
const True = createToken({ name: 'True', pattern: /true/, label: 'true' });
const False = createToken({ name: 'False', pattern: /false/, label: 'false' });
const Null = createToken({ name: 'Null', pattern: /null/, label: 'null' });
const StringLiteral = createToken({
  name: 'StringLiteral',
  pattern: /"(?:[^\\"\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/,
  label: 'a string',
});
const NumberLiteral = createToken({
  name: 'NumberLiteral',
  pattern: /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/,
  label: 'a number',
});
const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\n\r]+/, group: Lexer.SKIPPED });

const allTokens = [WhiteSpace, NumberLiteral, StringLiteral, LCurly, RCurly, LSquare, RSquare, Comma, Colon, True, False, Null];
const lexer = new Lexer(allTokens, { positionTracking: 'onlyStart', ensureOptimizations: false, skipValidations: process.env.SLUICE_COMPILED_BUILD === 'true' });

function unquote(image: string): string {
  // Fast path: most keys and values have no escapes.
  return image.indexOf('\\') < 0 ? image.slice(1, -1) : (JSON.parse(image) as string);
}

class PositionedJsonParser extends EmbeddedActionsParser {
  file = '';

  constructor() {
    // The grammar checks take most of the parser's (and lexer's) construction; the compiled build,
    // whose grammar the tests checked, skips them. The build defines this variable as a constant.
    super(allTokens, { recoveryEnabled: false, skipValidations: process.env.SLUICE_COMPILED_BUILD === 'true' });
    this.performSelfAnalysis();
  }

  private loc(t: IToken): Loc {
    return { file: this.file, line: t.startLine ?? 1, column: t.startColumn ?? 1 };
  }

  public json = this.RULE('json', (): PNode => this.SUBRULE(this.value));

  private object = this.RULE('object', (): PNode => {
    const open = this.CONSUME(LCurly);
    const entries: PEntry[] = [];
    this.OPTION(() => {
      entries.push(this.SUBRULE(this.objectItem));
      this.MANY(() => {
        this.CONSUME(Comma);
        entries.push(this.SUBRULE2(this.objectItem));
      });
    });
    this.CONSUME(RCurly);
    return { kind: 'object', loc: this.loc(open), entries };
  });

  private objectItem = this.RULE('objectItem', (): PEntry => {
    const key = this.CONSUME(StringLiteral);
    this.CONSUME(Colon);
    const value = this.SUBRULE(this.value);
    return { key: this.ACTION(() => unquote(key.image)), keyLoc: this.loc(key), value };
  });

  private array = this.RULE('array', (): PNode => {
    const open = this.CONSUME(LSquare);
    const items: PNode[] = [];
    this.OPTION(() => {
      items.push(this.SUBRULE(this.value));
      this.MANY(() => {
        this.CONSUME(Comma);
        items.push(this.SUBRULE2(this.value));
      });
    });
    this.CONSUME(RSquare);
    return { kind: 'array', loc: this.loc(open), items };
  });

  // The alternatives are built once and reused (Chevrotain's performance advice for embedded actions).
  private valueAlternatives?: { ALT: () => PNode }[];

  private value = this.RULE('value', (): PNode =>
    this.OR(
      (this.valueAlternatives ??= [
        {
          ALT: () => {
            const t = this.CONSUME(StringLiteral);
            return { kind: 'string', loc: this.loc(t), value: this.ACTION(() => unquote(t.image)) } as PNode;
          },
        },
        {
          ALT: () => {
            const t = this.CONSUME(NumberLiteral);
            return { kind: 'number', loc: this.loc(t), text: t.image } as PNode;
          },
        },
        { ALT: () => this.SUBRULE(this.object) },
        { ALT: () => this.SUBRULE(this.array) },
        {
          ALT: () => {
            const t = this.CONSUME(True);
            return { kind: 'boolean', loc: this.loc(t), value: true } as PNode;
          },
        },
        {
          ALT: () => {
            const t = this.CONSUME(False);
            return { kind: 'boolean', loc: this.loc(t), value: false } as PNode;
          },
        },
        {
          ALT: () => {
            const t = this.CONSUME(Null);
            return { kind: 'null', loc: this.loc(t) } as PNode;
          },
        },
      ]),
    ),
  );
}

let parserInstance: PositionedJsonParser | undefined;

export interface ParseResult {
  node?: PNode;
  diagnostics: Diagnostic[];
}

function describeToken(t: IToken): string {
  switch (t.tokenType) {
    case StringLiteral:
      return `string ${t.image}`;
    case NumberLiteral:
      return `number ${t.image}`;
    default:
      return `'${t.image}'`;
  }
}

/** What the grammar wanted where it stopped, from the rule it was in. */
function expectedAfter(ruleStack: string[], errorName: string, message: string, previous?: string): string {
  const rule = ruleStack[ruleStack.length - 1];
  if (errorName === 'NotAllInputParsedException') return 'end of file';
  // Chevrotain names the one token it wanted, by label, for a mismatched token.
  const label = /^Expecting --> (.*?) <--/.exec(message)?.[1];
  // A closing bracket is never the only option: a separator or a first item would fit too.
  if (label === "'}'") return previous === '{' ? "a string key or '}'" : "',' or '}'";
  if (label === "']'") return previous === '[' ? "a value or ']'" : "',' or ']'";
  if (label) return label === 'a string' && (rule === 'objectItem' || rule === 'object') ? 'a string key' : label;
  switch (rule) {
    case 'object':
      return "',' or '}'";
    case 'objectItem':
      return "':' and a value";
    case 'array':
      return "',' or ']'";
    default:
      return 'a value (string, number, object, list, true, false or null)';
  }
}

function lineColAt(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/** Parses JSON text into a positioned tree, or a syntax diagnostic at the offending token. */
export function parseJsonWithPositions(rawText: string, file: string): ParseResult {
  const text = withoutByteOrderMark(rawText);
  const lexed = lexer.tokenize(text);
  if (lexed.errors.length) {
    const e = lexed.errors[0];
    const pos = e.line !== undefined && e.column !== undefined ? { line: e.line, column: e.column } : lineColAt(text, e.offset);
    const snippet = text.slice(e.offset, e.offset + Math.min(e.length || 1, 20));
    return {
      diagnostics: [{ file, ...pos, severity: 'error', code: 'CONFIG_SYNTAX', message: `invalid JSON: unexpected character ${JSON.stringify(snippet)}` }],
    };
  }
  parserInstance ??= new PositionedJsonParser();
  const parser = parserInstance;
  parser.file = file;
  parser.input = lexed.tokens;
  const node = parser.json();
  if (parser.errors.length) {
    const e = parser.errors[0];
    const t = e.token;
    const atEnd = t.tokenType.name === 'EOF';
    const pos = atEnd ? lineColAt(text, text.length) : { line: t.startLine ?? 1, column: t.startColumn ?? 1 };
    const found = atEnd ? 'end of file' : describeToken(t);
    const previous = (e as { previousToken?: IToken }).previousToken?.image;
    const want = expectedAfter(e.context.ruleStack, e.name, e.message, previous);
    return {
      diagnostics: [{ file, ...pos, severity: 'error', code: 'CONFIG_SYNTAX', message: `invalid JSON: unexpected ${found}${want ? `, expected ${want}` : ''}` }],
    };
  }
  if (lexed.tokens.length === 0) {
    return { diagnostics: [{ file, line: 1, column: 1, severity: 'error', code: 'CONFIG_SYNTAX', message: 'invalid JSON: the file is empty' }] };
  }
  return { node, diagnostics: duplicateKeys(node) };
}

function duplicateKeys(root: PNode): Diagnostic[] {
  const out: Diagnostic[] = [];
  const walk = (n: PNode) => {
    if (n.kind === 'object') {
      const seen = new Set<string>();
      for (const e of n.entries) {
        if (seen.has(e.key)) out.push({ ...e.keyLoc, severity: 'error', code: 'CONFIG_DUPLICATE_KEY', message: `duplicate key "${e.key}" (the last one would win)` });
        seen.add(e.key);
        walk(e.value);
      }
    } else if (n.kind === 'array') n.items.forEach(walk);
  };
  walk(root);
  return out;
}
