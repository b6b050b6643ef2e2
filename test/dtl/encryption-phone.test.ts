import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { diagnose, evalDtl, evalJson } from './helpers.js';
import { Bytes } from '../../compiler/values/types.js';

describe('encrypt and decrypt', () => {
  it('round-trip any value with the same key', () => {
    const value = { a: [1, '~f2.5', '~t2020-01-01T00:00:00Z', null], b: 'tekst æ' };
    expect(evalJson(['decrypt', 'pw', ['encrypt', 'pw', '_S.v']], { source: { v: value } })).toEqual(value);
    expect(evalJson(['decrypt', 'pw', ['encrypt', 'pw', 'one']])).toBe('one');
    expect(evalJson(['decrypt', 'pw', ['list', ['encrypt', 'pw', 1], ['encrypt', 'pw', 2]]])).toEqual([1, 2]);
  });

  it('produce a fresh Fernet token each time', () => {
    const a = evalDtl(['encrypt', 'k', 'x']);
    const b = evalDtl(['encrypt', 'k', 'x']);
    expect(a).toBeInstanceOf(Bytes);
    const token = Buffer.from((a as Bytes).data).toString('ascii');
    expect(token).toMatch(/^gAAAAA[A-Za-z0-9_-]+=*$/);
    expect(token).not.toBe(Buffer.from((b as Bytes).data).toString('ascii'));
    // A token given as text is accepted as well.
    expect(evalJson(['decrypt', 'k', '_S.t'], { source: { t: token } })).toBe('x');
  });

  it('fail on a wrong key and ignore values that are no tokens', () => {
    expect(() => evalJson(['decrypt', 'other', ['encrypt', 'pw', 'x']])).toThrow(/could not be decrypted/);
    expect(() => evalJson(['decrypt', 'pw', 'not a token'])).toThrow(/could not be decrypted/);
    expect(evalJson(['decrypt', 'pw', ['list', 1, null]])).toEqual([]);
    expect(evalJson(['encrypt', 'pw', null])).toBe(null);
    expect(() => evalJson(['encrypt', 1, 'x'])).toThrow(/KEY/);
  });
});

describe('encrypt-pki and decrypt-pki', () => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });

  it('round-trip strings through RSA', () => {
    const source = { pub: publicKey, priv: privateKey };
    expect(evalJson(['decrypt-pki', '_S.priv', ['encrypt-pki', '_S.pub', ['list', 'a', 5, 'b']]], { source })).toEqual(['a', 'b']);
    expect(evalJson(['json-transit-parse', ['decrypt-pki', '_S.priv', ['encrypt-pki', '_S.pub', ['json-transit', ['list', ['list', 'a', '~rx:y']]]]]], { source })).toEqual([['a', '~rx:y']]);
    expect(evalJson(['is-bytes', ['encrypt-pki', '_S.pub', 'secret']], { source })).toBe(true);
  });

  it('report bad keys and oversized values', () => {
    expect(() => evalJson(['encrypt-pki', 'not a key', 'x'])).toThrow(/could not read the RSA public key/);
    expect(() => evalJson(['encrypt-pki', '_S.pub', 'x'.repeat(1000)], { source: { pub: publicKey } })).toThrow(/short strings/);
    const other = generateKeyPairSync('rsa', { modulusLength: 1024, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    expect(() => evalJson(['decrypt-pki', '_S.priv', ['encrypt-pki', '_S.pub', 'x']], { source: { pub: publicKey, priv: other.privateKey } })).toThrow(/could not decrypt/);
  });

  it('pgp variants fail with an explanation', () => {
    expect(() => evalJson(['encrypt-pgp', 'key', 'x'])).toThrow(/OpenPGP.*not implemented/);
    expect(() => evalJson(['decrypt-pgp', 'key', 'pw', 'x'])).toThrow(/not supported/);
  });
});

describe('phonenumbers', () => {
  it('phonenumber-parse makes tel URIs of valid numbers only', () => {
    expect(evalJson(['phonenumber-parse', ['list', '+47 22 22 22 22', '(212) 555-0123', 'garbage', '+4712', null]])).toEqual(['~rtel:+47-22-22-22-22']);
    expect(evalJson(['phonenumber-parse', 'US', ['list', '(212) 555-0123', '+44 20 7946 0958']])).toEqual(['~rtel:+1-212-555-0123', '~rtel:+44-20-7946-0958']);
    expect(evalJson(['phonenumber-parse', 'NO', 22225555])).toBe('~rtel:+47-22-22-55-55');
    expect(evalJson(['phonenumber-parse', 'no', '22225555'])).toBe('~rtel:+47-22-22-55-55');
    expect(evalJson(['phonenumber-parse', 'ZZ', '22225555'])).toBe(null);
    expect(evalJson(['phonenumber-parse', '+4722222222 ext. 45'])).toBe('~rtel:+47-22-22-22-22;ext=45');
    expect(evalJson(['phonenumber-parse', '~rtel:+47-22-22-22-22'])).toBe('~rtel:+47-22-22-22-22');
  });

  it('phonenumber-format writes each format', () => {
    const n = '~rtel:+44-20-7946-0958';
    const out = ['e164', 'rfc3966', 'national', 'international', 'national-e164', 'isocode', 'country-code'].map((f) => evalJson(['phonenumber-format', f, n]));
    expect(out).toEqual(['442079460958', 'tel:+44-20-7946-0958', '020 7946 0958', '+44 20 7946 0958', '2079460958', 'GB', '44']);
    expect(evalJson(['phonenumber-format', 'isocode', ['phonenumber-parse', '+1 212 555 0123']])).toBe('US');
    expect(evalJson(['phonenumber-format', 'e164', ['list', 'tel:+4722222222', n, 7]])).toEqual(['442079460958']);
    expect(evalJson(['phonenumber-format', '_S.f', n], { source: { f: 'nope' } })).toBe(null);
    expect(diagnose({ default: [['add', 'x', ['phonenumber-format', 'E.164', '_S.n']]] }).some((d) => d.includes('DTL_ARGUMENT'))).toBe(true);
  });
});
