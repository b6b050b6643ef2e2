/**
 * DTL encryption functions (dtl-functions-encryption).
 *
 * - `encrypt` / `decrypt`: a Fernet token (AES-128-CBC with an HMAC-SHA256 tag, version byte 0x80,
 *   the layout of the Fernet specification) over the transit JSON text of VALUES. The Fernet key is
 *   the SHA-256 digest of the KEY password. The result is one bytes value holding the token text.
 * - `encrypt-pki` / `decrypt-pki`: RSA with OAEP padding (SHA-256 and MGF1-SHA-256); decryption also
 *   accepts OAEP with SHA-1, the other common choice.
 * - `encrypt-pgp` / `decrypt-pgp`: OpenPGP needs a full RFC 4880 implementation, which node:crypto
 *   does not provide; these functions fail with a clear error when evaluated.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, createPrivateKey, createPublicKey, constants, privateDecrypt, publicEncrypt, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import { family } from '../spec.js';
import { DtlRuntimeError } from '../runtime.js';
import { Bytes, type Value } from '../../values/types.js';
import { decodeInPlace } from '../../values/transit.js';
import { toJsonText } from './text.js';
import { parseJsonText } from './json.js';
import { mapEach, SKIP } from './util.js';

// Fernet ----------------------------------------------------------------------------------------

interface FernetKey {
  signing: Buffer;
  encryption: Buffer;
}

const fernetKeys = new Map<string, FernetKey>();

function fernetKey(fn: string, password: Value): FernetKey {
  if (typeof password !== 'string') throw new DtlRuntimeError(`the KEY of "${fn}" must be a string`);
  let k = fernetKeys.get(password);
  if (!k) {
    const digest = createHash('sha256').update(password, 'utf8').digest();
    k = { signing: digest.subarray(0, 16), encryption: digest.subarray(16, 32) };
    if (fernetKeys.size < 100) fernetKeys.set(password, k);
  }
  return k;
}

export function fernetEncrypt(key: FernetKey, plaintext: Buffer, now = Date.now(), iv = randomBytes(16)): string {
  const header = Buffer.alloc(9);
  header[0] = 0x80;
  header.writeBigUInt64BE(BigInt(Math.floor(now / 1000)), 1);
  const cipher = createCipheriv('aes-128-cbc', key.encryption, iv);
  const body = Buffer.concat([header, iv, cipher.update(plaintext), cipher.final()]);
  const tag = createHmac('sha256', key.signing).update(body).digest();
  // URL-safe base64 with padding, as Fernet tokens are written.
  return Buffer.concat([body, tag]).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

/** The plaintext of a Fernet token, or null when the token is malformed or the key does not match. */
export function fernetDecrypt(key: FernetKey, token: string): Buffer | null {
  const t = token.trim().replace(/=+$/, '');
  if (!/^[A-Za-z0-9_-]+$/.test(t)) return null;
  const raw = Buffer.from(t, 'base64url');
  if (raw.length < 9 + 16 + 16 + 32 || raw[0] !== 0x80 || (raw.length - 57) % 16 !== 0) return null;
  const body = raw.subarray(0, raw.length - 32);
  const tag = raw.subarray(raw.length - 32);
  const expected = createHmac('sha256', key.signing).update(body).digest();
  if (!timingSafeEqual(tag, expected)) return null;
  try {
    const decipher = createDecipheriv('aes-128-cbc', key.encryption, body.subarray(9, 25));
    return Buffer.concat([decipher.update(body.subarray(25)), decipher.final()]);
  } catch {
    return null;
  }
}

function bytesOf(b: Bytes): Buffer {
  return Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength);
}

/** `encrypt`: one bytes value with the Fernet token of the transit JSON of VALUES (null stays null). */
export function dtlEncrypt(password: Value, v: Value): Value {
  const key = fernetKey('encrypt', password);
  if (v === null || v === undefined) return null;
  const token = fernetEncrypt(key, Buffer.from(toJsonText(v, true), 'utf8'));
  return new Bytes(new Uint8Array(Buffer.from(token, 'ascii')));
}

/** `decrypt`: the value each token (bytes or string) was made from; fails when the key does not match. */
export function dtlDecrypt(password: Value, v: Value): Value {
  const key = fernetKey('decrypt', password);
  return mapEach(v, (x) => {
    let token: string;
    if (x instanceof Bytes) token = bytesOf(x).toString('latin1');
    else if (typeof x === 'string') token = x;
    else return SKIP;
    const plain = fernetDecrypt(key, token);
    if (plain === null) throw new DtlRuntimeError('the value could not be decrypted: the key does not match or the data is not an encrypted token');
    const parsed = parseJsonText(plain.toString('utf8'));
    if (parsed === SKIP) throw new DtlRuntimeError('the decrypted data is not a value made by "encrypt"');
    return decodeInPlace(parsed);
  });
}

// RSA -------------------------------------------------------------------------------------------

const keyCache = new Map<string, KeyObject>();

function rsaKey(fn: string, pem: Value, kind: 'public' | 'private'): KeyObject {
  if (typeof pem !== 'string') throw new DtlRuntimeError(`the ${kind === 'public' ? 'PUBLIC_KEY' : 'PRIVATE_KEY'} of "${fn}" must be a PEM string`);
  const cacheKey = kind + '\n' + pem;
  let k = keyCache.get(cacheKey);
  if (!k) {
    try {
      k = kind === 'public' ? createPublicKey(pem) : createPrivateKey(pem);
    } catch (err) {
      throw new DtlRuntimeError(`"${fn}" could not read the RSA ${kind} key: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (k.asymmetricKeyType !== 'rsa') throw new DtlRuntimeError(`"${fn}" needs an RSA key, not ${k.asymmetricKeyType ?? 'this key type'}`);
    if (keyCache.size < 100) keyCache.set(cacheKey, k);
  }
  return k;
}

export function dtlEncryptPki(pem: Value, v: Value): Value {
  const key = rsaKey('encrypt-pki', pem, 'public');
  return mapEach(v, (x) => {
    if (typeof x !== 'string') return SKIP;
    try {
      const out = publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from(x, 'utf8'));
      return new Bytes(new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
    } catch (err) {
      throw new DtlRuntimeError(`"encrypt-pki" could not encrypt a value (${err instanceof Error ? err.message : String(err)}); it is meant for short strings, use a shorter value`);
    }
  });
}

export function dtlDecryptPki(pem: Value, v: Value): Value {
  const key = rsaKey('decrypt-pki', pem, 'private');
  return mapEach(v, (x) => {
    if (!(x instanceof Bytes)) return SKIP;
    const data = bytesOf(x);
    for (const oaepHash of ['sha256', 'sha1']) {
      try {
        return privateDecrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, data).toString('utf8');
      } catch {
        // try the next padding hash
      }
    }
    throw new DtlRuntimeError('"decrypt-pki" could not decrypt a value: the private key does not match or the data is not RSA-OAEP encrypted');
  });
}

// OpenPGP ---------------------------------------------------------------------------------------

export function pgpUnsupported(fn: string): never {
  throw new DtlRuntimeError(`"${fn}" is not supported by this runtime: OpenPGP (RFC 4880) encryption is not implemented; use "encrypt-pki"/"decrypt-pki" or "encrypt"/"decrypt" instead`);
}

export default family('encryption', (def) => {
  def.expression({
    name: 'encrypt',
    doc: 'Encrypts VALUES with the password KEY (Fernet) into one bytes value that "decrypt" with the same KEY turns back.',
    args: ['expr', 'expr'],
    emit: (e) => `${e.use(dtlEncrypt)}(${e.arg(0)}, ${e.arg(1)})`,
  });
  def.expression({
    name: 'decrypt',
    doc: 'Decrypts values made by "encrypt" with the same password KEY.',
    args: ['expr', 'expr'],
    emit: (e) => `${e.use(dtlDecrypt)}(${e.arg(0)}, ${e.arg(1)})`,
  });
  def.expression({
    name: 'encrypt-pki',
    doc: 'Encrypts each string with the RSA public key PUBLIC_KEY (PEM, OAEP padding) into a bytes value.',
    args: ['expr', 'expr'],
    emit: (e) => `${e.use(dtlEncryptPki)}(${e.arg(0)}, ${e.arg(1)})`,
  });
  def.expression({
    name: 'decrypt-pki',
    doc: 'Decrypts each bytes value with the RSA private key PRIVATE_KEY (PEM) into a string.',
    args: ['expr', 'expr'],
    emit: (e) => `${e.use(dtlDecryptPki)}(${e.arg(0)}, ${e.arg(1)})`,
  });
  def.expression({
    name: 'encrypt-pgp',
    doc: 'OpenPGP encryption with a public key; not supported by this runtime (fails when evaluated).',
    args: ['expr', 'expr'],
    emit: (e) => `${e.use(pgpUnsupported)}("encrypt-pgp")`,
  });
  def.expression({
    name: 'decrypt-pgp',
    doc: 'OpenPGP decryption with a private key and passphrase; not supported by this runtime (fails when evaluated).',
    args: ['expr', 'expr', 'expr'],
    emit: (e) => `${e.use(pgpUnsupported)}("decrypt-pgp")`,
  });
});
