/**
 * IANA time zones for the datetime functions, computed with the platform's Intl API (no bundled
 * tz database). Offsets are looked up per UTC day and cached: a day without a transition is one
 * Intl call at each end, and a day with one gets the exact transition second by bisection.
 *
 * Local (wall clock) times that are ambiguous or do not exist follow the convention of the
 * pytz `localize` default Sesam builds on: an ambiguous time takes the standard-time reading (the
 * smaller offset, i.e. the later instant); a time skipped by a forward jump takes the offset in
 * effect before the jump.
 */
import { daysFromCivil } from '../../values/datetime.js';

const MS_PER_DAY = 86_400_000;
const CACHE_LIMIT = 20_000;

/** Offset in seconds east of UTC at the start of a UTC day, the transition instant (ms) within it, and the offset after. */
interface DayOffsets {
  before: number;
  at: number;
  after: number;
}

export class TimeZone {
  /** True for zones that are always UTC+0 (lookups short-circuit). */
  readonly isUtc: boolean;
  private readonly fmt: Intl.DateTimeFormat | null;
  private readonly days = new Map<number, DayOffsets>();
  private readonly abbreviations = new Map<number, string>();

  constructor(
    /** The name as the configuration spells it. */
    readonly name: string,
    /** The canonical name Intl resolved it to. */
    readonly resolved: string,
  ) {
    this.isUtc = resolved === 'UTC' || resolved === 'Etc/UTC' || resolved === 'Etc/GMT' || resolved === 'GMT';
    this.fmt = this.isUtc
      ? null
      : new Intl.DateTimeFormat('en-US', {
          timeZone: resolved,
          hourCycle: 'h23',
          era: 'short',
          year: 'numeric',
          month: 'numeric',
          day: 'numeric',
          hour: 'numeric',
          minute: 'numeric',
          second: 'numeric',
        });
  }

  /** Offset (seconds east of UTC) in effect at the UTC instant `ms`. */
  offsetAt(ms: number): number {
    if (this.isUtc) return 0;
    const day = Math.floor(ms / MS_PER_DAY);
    let d = this.days.get(day);
    if (!d) {
      d = this.computeDay(day);
      if (this.days.size >= CACHE_LIMIT) this.days.clear();
      this.days.set(day, d);
    }
    return ms < d.at ? d.before : d.after;
  }

  /**
   * The UTC instant (ms) of the wall-clock time `wallMs` (wall-clock fields read as if UTC) in this
   * zone, resolving ambiguous and skipped times as described in the module comment.
   */
  localToUtc(wallMs: number): number {
    if (this.isUtc) return wallMs;
    const before = this.offsetAt(wallMs - MS_PER_DAY);
    const after = this.offsetAt(wallMs + MS_PER_DAY);
    const c1 = wallMs - before * 1000;
    if (before === after) return c1;
    const c2 = wallMs - after * 1000;
    const v1 = this.offsetAt(c1) === before;
    const v2 = this.offsetAt(c2) === after;
    if (v1 && v2) return Math.max(c1, c2);
    if (v2) return c2;
    return c1;
  }

  /** A short name for the offset in effect at `ms` (CEST, EST, ...; numeric like +09 when the platform has no abbreviation). */
  abbreviation(ms: number): string {
    if (this.isUtc) return 'UTC';
    const offset = this.offsetAt(ms);
    const cached = this.abbreviations.get(offset);
    if (cached !== undefined) return cached;
    let name = '';
    for (const locale of ['en-US', 'en-GB']) {
      const part = new Intl.DateTimeFormat(locale, { timeZone: this.resolved, timeZoneName: 'short' }).formatToParts(ms).find((p) => p.type === 'timeZoneName');
      if (part && !/^(GMT|UTC)[+-−]/.test(part.value)) {
        name = part.value;
        break;
      }
    }
    if (!name) name = numericAbbreviation(offset);
    this.abbreviations.set(offset, name);
    return name;
  }

  /** The raw offset at `ms` from Intl, in whole seconds. */
  private rawOffset(ms: number): number {
    const parts = this.fmt!.formatToParts(ms);
    let year = 0;
    let month = 1;
    let day = 1;
    let hour = 0;
    let minute = 0;
    let second = 0;
    let bc = false;
    for (const p of parts) {
      switch (p.type) {
        case 'year':
          year = +p.value;
          break;
        case 'month':
          month = +p.value;
          break;
        case 'day':
          day = +p.value;
          break;
        case 'hour':
          hour = +p.value % 24;
          break;
        case 'minute':
          minute = +p.value;
          break;
        case 'second':
          second = +p.value;
          break;
        case 'era':
          bc = p.value === 'BC' || p.value === 'B';
          break;
      }
    }
    if (bc) year = 1 - year;
    const wall = (daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second) * 1000;
    return Math.round((wall - Math.floor(ms / 1000) * 1000) / 1000);
  }

  private computeDay(day: number): DayOffsets {
    const start = day * MS_PER_DAY;
    const end = start + MS_PER_DAY;
    const before = this.rawOffset(start);
    const after = this.rawOffset(end);
    if (before === after) return { before, at: Infinity, after };
    // Bisect (in whole seconds) for the first instant that has the later offset.
    let lo = start / 1000;
    let hi = end / 1000;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (this.rawOffset(mid * 1000) === before) lo = mid;
      else hi = mid;
    }
    return { before, at: hi * 1000, after };
  }
}

function numericAbbreviation(offset: number): string {
  const sign = offset < 0 ? '-' : '+';
  const a = Math.abs(offset);
  const h = Math.floor(a / 3600);
  const m = Math.floor((a % 3600) / 60);
  return sign + String(h).padStart(2, '0') + (m ? String(m).padStart(2, '0') : '');
}

const zones = new Map<string, TimeZone | null>();

/** The zone with this IANA name (case-insensitive, aliases allowed), or null when the platform does not know it. */
export function getTimeZone(name: string): TimeZone | null {
  let z = zones.get(name);
  if (z === undefined) {
    z = null;
    // Intl on newer platforms also takes bare offsets ("+01:00"); tz names never start with a sign.
    if (name.length > 0 && name.length < 100 && !/^[+-]/.test(name)) {
      try {
        const resolved = new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
        z = new TimeZone(name, resolved);
      } catch {
        z = null;
      }
    }
    if (zones.size > 1000) zones.clear();
    zones.set(name, z);
  }
  return z;
}
