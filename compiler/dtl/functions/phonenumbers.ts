/**
 * DTL phone number functions (dtl-functions-phonenumbers), built on libphonenumber-js with its
 * full metadata. Phone numbers are URIs in the RFC 3966 form `tel:+47-22-22-22-22`: the
 * international format with its separators turned into hyphens, as Google's libphonenumber writes it.
 */
import { parsePhoneNumberFromString, type CountryCode, type PhoneNumber } from 'libphonenumber-js/max';
import { family, type CheckContext } from '../spec.js';
import { Uri, type Value } from '../../values/types.js';
import { castToString } from './text.js';
import { mapEach, SKIP, type Converted } from './util.js';

/** Runs of separators that become one hyphen in the RFC 3966 form. */
const SEPARATORS = /[-x\u2010-\u2015\u2212\u30fc\uff0d-\uff0f \u00a0\u00ad\u200b\u2060\u3000()\uff08\uff09\uff3b\uff3d.[\]/~\u2053\u223c\uff5e]+/g;

export function rfc3966(p: PhoneNumber): string {
  let s = 'tel:' + p.format('INTERNATIONAL', { formatExtension: (formatted: string) => formatted }).trim().replace(SEPARATORS, '-');
  if (p.ext) s += ';ext=' + p.ext;
  return s;
}

function parseNumber(text: string, region: string | undefined): PhoneNumber | undefined {
  try {
    return parsePhoneNumberFromString(text, region ? { defaultCountry: region.toUpperCase() as CountryCode } : undefined);
  } catch {
    return undefined;
  }
}

function parseOne(x: Value, region: string | undefined): Converted {
  let text: string | null = null;
  if (typeof x === 'string') text = x;
  else if (x instanceof Uri) text = x.value;
  else if (typeof x === 'number' || typeof x === 'bigint') text = castToString(x);
  if (text === null) return SKIP;
  const p = parseNumber(text, region);
  return p && p.isValid() ? new Uri(rfc3966(p)) : SKIP;
}

/** `phonenumber-parse`: valid phone numbers (strings, numbers or tel URIs) as tel URIs; others are ignored. */
export function dtlPhonenumberParse(region: Value, v: Value): Value {
  if (region !== null && typeof region !== 'string') return null;
  const r = region ?? undefined;
  return mapEach(v, (x) => parseOne(x, r));
}

export const PHONE_FORMATS = ['e164', 'rfc3966', 'national', 'international', 'national-e164', 'isocode', 'country-code'] as const;
type PhoneFormat = (typeof PHONE_FORMATS)[number];

function formatOne(p: PhoneNumber, f: PhoneFormat): string | null {
  switch (f) {
    case 'e164':
      // The documented form has no leading "+".
      return p.countryCallingCode + p.nationalNumber;
    case 'rfc3966':
      return rfc3966(p);
    case 'national':
      return p.format('NATIONAL');
    case 'international':
      return p.format('INTERNATIONAL');
    case 'national-e164':
      return p.nationalNumber;
    case 'isocode':
      // Numbers of no single region (e.g. +800) get the "world" code 001.
      return p.country ?? (p.getPossibleCountries().length ? null : '001');
    case 'country-code':
      return p.countryCallingCode;
  }
}

/** `phonenumber-format`: each tel URI as text in FORMAT_STRING; other values (and unknown formats) give nothing. */
export function dtlPhonenumberFormat(format: Value, v: Value): Value {
  if (typeof format !== 'string' || !(PHONE_FORMATS as readonly string[]).includes(format)) return null;
  const f = format as PhoneFormat;
  return mapEach(v, (x) => {
    if (!(x instanceof Uri)) return SKIP;
    const p = parseNumber(x.value, undefined);
    if (!p) return SKIP;
    return formatOne(p, f) ?? SKIP;
  });
}

function checkFormat(c: CheckContext): void {
  const lit = c.literal(0);
  if (lit && (typeof lit.value !== 'string' || !(PHONE_FORMATS as readonly string[]).includes(lit.value))) {
    c.diagnostics.error('DTL_ARGUMENT', c.argNodes[0].loc, `"phonenumber-format" FORMAT_STRING must be one of ${PHONE_FORMATS.map((f) => `"${f}"`).join(', ')}`);
  }
}

export default family('phonenumbers', (def) => {
  def.expression({
    name: 'phonenumber-parse',
    doc: 'Parses phone numbers (strings or numbers; DEFAULT_REGION for numbers without a country code) into tel URIs; invalid ones are ignored.',
    args: ['expr', 'expr'],
    min: 1,
    emit: (e) => (e.count === 2 ? `${e.use(dtlPhonenumberParse)}(${e.arg(0)}, ${e.arg(1)})` : `${e.use(dtlPhonenumberParse)}(null, ${e.arg(0)})`),
  });
  def.expression({
    name: 'phonenumber-format',
    doc: 'Formats tel URIs as e164, rfc3966, national, international, national-e164, isocode or country-code text.',
    args: ['expr', 'expr'],
    check: checkFormat,
    emit: (e) => `${e.use(dtlPhonenumberFormat)}(${e.arg(0)}, ${e.arg(1)})`,
  });
});
