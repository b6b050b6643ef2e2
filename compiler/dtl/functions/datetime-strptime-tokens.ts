/**
 * The tokens of a strptime-style parse format: literal text, whitespace runs and the fields that
 * the directives (`%Y`, `%b`, `%z`, ...) read, with the composite directives expanded.
 */
import { MONTHS, WEEKDAYS } from './datetime-names.js';

export const enum P {
  Lit,
  Ws,
  Year4,
  Year2,
  Month,
  Day,
  Hour24,
  Hour12,
  Minute,
  Second,
  Frac,
  Nanos,
  AmPm,
  Offset,
  TzName,
  YearDay,
  WeekSun,
  WeekMon,
  WeekdaySun0,
  WeekdayMon1,
  WeekdayName,
  MonthName,
  IsoYear,
  IsoWeek,
}

export interface PTok {
  op: P;
  /** Lower-cased literal text (Lit). */
  lit: string;
  /** Candidate names, longest first, each with its index (WeekdayName, MonthName). */
  names: { text: string; index: number }[] | null;
}

function namesLongestFirst(full: string[], abbreviated: boolean): { text: string; index: number }[] {
  return full.map((n, index) => ({ text: (abbreviated ? n.slice(0, 3) : n).toLowerCase(), index })).sort((a, b) => b.text.length - a.text.length);
}

const MONTH_FULL = namesLongestFirst(MONTHS, false);
const MONTH_ABBR = namesLongestFirst(MONTHS, true);
const WEEKDAY_FULL = namesLongestFirst(WEEKDAYS, false);
const WEEKDAY_ABBR = namesLongestFirst(WEEKDAYS, true);

export function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || (c > 127 && /\s/.test(String.fromCharCode(c)));
}

export function tokenizeParse(format: string): { tokens: PTok[]; error: string | null } {
  const tokens: PTok[] = [];
  let error: string | null = null;
  let lit = '';
  const flush = () => {
    if (lit) tokens.push({ op: P.Lit, lit: lit.toLowerCase(), names: null });
    lit = '';
  };
  const field = (op: P, names: PTok['names'] = null) => {
    flush();
    tokens.push({ op, lit: '', names });
  };
  const expand = (sub: string) => {
    const inner = tokenizeParse(sub).tokens;
    flush();
    tokens.push(...inner);
  };
  for (let i = 0; i < format.length; i++) {
    const ch = format[i];
    if (isSpace(format.charCodeAt(i))) {
      flush();
      if (tokens.length === 0 || tokens[tokens.length - 1].op !== P.Ws) tokens.push({ op: P.Ws, lit: '', names: null });
      continue;
    }
    if (ch !== '%') {
      lit += ch;
      continue;
    }
    const d = format[++i];
    switch (d) {
      case 'Y':
        field(P.Year4);
        break;
      case 'y':
        field(P.Year2);
        break;
      case 'G':
        field(P.IsoYear);
        break;
      case 'm':
        field(P.Month);
        break;
      case 'd':
      case 'e':
        field(P.Day);
        break;
      case 'H':
        field(P.Hour24);
        break;
      case 'I':
        field(P.Hour12);
        break;
      case 'M':
        field(P.Minute);
        break;
      case 'S':
        field(P.Second);
        break;
      case 'f':
        field(P.Frac);
        break;
      case 'N':
        field(P.Nanos);
        break;
      case 'p':
        field(P.AmPm);
        break;
      case 'z':
        field(P.Offset);
        break;
      case 'Z':
        field(P.TzName);
        break;
      case 'j':
        field(P.YearDay);
        break;
      case 'U':
        field(P.WeekSun);
        break;
      case 'W':
        field(P.WeekMon);
        break;
      case 'V':
        field(P.IsoWeek);
        break;
      case 'w':
        field(P.WeekdaySun0);
        break;
      case 'u':
        field(P.WeekdayMon1);
        break;
      case 'a':
        field(P.WeekdayName, WEEKDAY_ABBR);
        break;
      case 'A':
        field(P.WeekdayName, WEEKDAY_FULL);
        break;
      case 'b':
      case 'h':
        field(P.MonthName, MONTH_ABBR);
        break;
      case 'B':
        field(P.MonthName, MONTH_FULL);
        break;
      case 'c':
        expand('%a %b %d %H:%M:%S %Y');
        break;
      case 'x':
      case 'D':
        expand('%m/%d/%y');
        break;
      case 'X':
      case 'T':
        expand('%H:%M:%S');
        break;
      case 'F':
        expand('%Y-%m-%d');
        break;
      case 'R':
        expand('%H:%M');
        break;
      case '%':
        lit += '%';
        break;
      case undefined:
        error ??= 'the format string ends with a lone "%"';
        break;
      default:
        error ??= `"%${d}" is not a supported directive`;
    }
  }
  flush();
  return { tokens, error };
}
