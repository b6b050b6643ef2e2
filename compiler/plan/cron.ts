/**
 * Cron expressions as the pump docs define them: 5 or 6 fields (minute, hour, day of month,
 * month, day of week, optional year), evaluated in UTC, with `* , - / ?` and `L` (last day of the
 * month, or `5L` for the last Friday). `W` and `#` are not supported.
 */

export interface CronSchedule {
  minutes: Set<number>;
  hours: Set<number>;
  days: Set<number> | 'any';
  lastDayOfMonth: boolean;
  months: Set<number>;
  weekdays: Set<number> | 'any';
  lastWeekdays: Set<number>;
  years: Set<number> | null;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

class CronError extends Error {}

function parseNumber(s: string, min: number, max: number, names?: string[], offset = 0): number {
  const upper = s.toUpperCase();
  const named = names?.indexOf(upper) ?? -1;
  const n = named >= 0 ? named + offset : /^\d+$/.test(s) ? Number(s) : NaN;
  if (Number.isNaN(n)) throw new CronError(`"${s}" is not a number${names ? ' or name' : ''}`);
  if (n < min || n > max) throw new CronError(`${n} is outside ${min}-${max}`);
  return n;
}

function parseField(field: string, min: number, max: number, names?: string[], nameOffset = 0): Set<number> {
  const out = new Set<number>();
  for (const part of field.split(',')) {
    if (part === '') throw new CronError('empty list item');
    const [range, stepText] = part.split('/');
    const step = stepText === undefined ? 1 : parseNumber(stepText, 1, max - min + 1);
    let lo: number;
    let hi: number;
    if (range === '*') {
      lo = min;
      hi = max;
    } else if (range.includes('-')) {
      const [a, b] = range.split('-');
      lo = parseNumber(a, min, max, names, nameOffset);
      hi = parseNumber(b, min, max, names, nameOffset);
      if (lo > hi) throw new CronError(`range ${range} runs backwards`);
    } else {
      lo = parseNumber(range, min, max, names, nameOffset);
      hi = stepText === undefined ? lo : max;
    }
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return out;
}

export function parseCron(expr: string): CronSchedule {
  const fields = expr.trim().split(/\s+/);
  if (fields.length < 5 || fields.length > 6) throw new CronError(`expected 5 or 6 fields, got ${fields.length}`);
  const [min, hour, dom, mon, dow, year] = fields;
  if (/[W#]/i.test(dom + dow)) throw new CronError('"W" and "#" are not supported');
  const schedule: CronSchedule = {
    minutes: parseField(min, 0, 59),
    hours: parseField(hour, 0, 23),
    days: 'any',
    lastDayOfMonth: false,
    months: parseField(mon, 1, 12, MONTHS, 1),
    weekdays: 'any',
    lastWeekdays: new Set(),
    years: year === undefined || year === '*' ? null : parseField(year, 1970, 2099),
  };
  if (dom === 'L') schedule.lastDayOfMonth = true;
  else if (dom !== '?' && dom !== '*') schedule.days = parseField(dom, 1, 31);
  if (/^\d?L$/i.test(dow) || /^[A-Z]{3}L$/i.test(dow)) {
    const d = dow.slice(0, -1);
    schedule.lastWeekdays.add(d === '' ? 6 : parseNumber(d, 0, 6, DAYS));
  } else if (dow !== '?' && dow !== '*') schedule.weekdays = parseField(dow, 0, 6, DAYS);
  return schedule;
}

/** An error message, or null when the expression is valid. */
export function validateCron(expr: string): string | null {
  try {
    parseCron(expr);
    return null;
  } catch (e) {
    if (e instanceof CronError) return e.message;
    throw e;
  }
}

function dayMatches(s: CronSchedule, d: Date): boolean {
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  const day = d.getUTCDate();
  const wd = d.getUTCDay();
  const lastDay = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  const domRestricted = s.days !== 'any' || s.lastDayOfMonth;
  const dowRestricted = s.weekdays !== 'any' || s.lastWeekdays.size > 0;
  const domOk = (s.days !== 'any' && s.days.has(day)) || (s.lastDayOfMonth && day === lastDay);
  const dowOk = (s.weekdays !== 'any' && s.weekdays.has(wd)) || (s.lastWeekdays.has(wd) && day + 7 > lastDay);
  if (domRestricted && dowRestricted) return domOk || dowOk;
  if (domRestricted) return domOk;
  if (dowRestricted) return dowOk;
  return true;
}

/** The first time strictly after `after` (whole minutes, UTC) the schedule fires, or null. */
export function nextCronTime(s: CronSchedule, after: Date): Date | null {
  const t = new Date(after.getTime());
  t.setUTCSeconds(0, 0);
  t.setUTCMinutes(t.getUTCMinutes() + 1);
  // Any valid day-of-month/weekday combination recurs within a few years; a year field can be far off.
  const limit = s.years ? Date.UTC(2100, 0, 1) : after.getTime() + 5 * 366 * 86_400_000;
  while (t.getTime() <= limit) {
    if (s.years && !s.years.has(t.getUTCFullYear())) {
      t.setUTCFullYear(t.getUTCFullYear() + 1, 0, 1);
      t.setUTCHours(0, 0, 0, 0);
      continue;
    }
    if (!s.months.has(t.getUTCMonth() + 1)) {
      t.setUTCMonth(t.getUTCMonth() + 1, 1);
      t.setUTCHours(0, 0, 0, 0);
      continue;
    }
    if (!dayMatches(s, t)) {
      t.setUTCDate(t.getUTCDate() + 1);
      t.setUTCHours(0, 0, 0, 0);
      continue;
    }
    if (!s.hours.has(t.getUTCHours())) {
      t.setUTCHours(t.getUTCHours() + 1, 0, 0, 0);
      continue;
    }
    if (!s.minutes.has(t.getUTCMinutes())) {
      t.setUTCMinutes(t.getUTCMinutes() + 1, 0, 0);
      continue;
    }
    return t;
  }
  return null;
}
