/**
 * Request bodies as text. JSON bodies must be UTF-8: a decoder that replaced invalid bytes would
 * turn two different ids into one, so invalid bytes refuse the request, naming where they are.
 */
import { isUtf8 } from 'node:buffer';
import type { FastifyRequest } from 'fastify';
import { badRequest } from './errors.js';

/** Byte offset of the first byte that does not belong to a valid UTF-8 sequence, or -1. */
export function invalidUtf8Offset(bytes: Uint8Array): number {
  if (isUtf8(bytes)) return -1;
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i];
    let n: number;
    let min: number;
    if (b < 0x80) n = 0;
    else if (b >= 0xc2 && b <= 0xdf) n = 1;
    else if (b >= 0xe0 && b <= 0xef) n = 2;
    else if (b >= 0xf0 && b <= 0xf4) n = 3;
    else return i;
    if (n === 0) {
      i++;
      continue;
    }
    let cp = b & (0xff >> (n + 2));
    for (let k = 1; k <= n; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    min = n === 1 ? 0x80 : n === 2 ? 0x800 : 0x10000;
    // Overlong forms, UTF-16 surrogates and code points beyond U+10FFFF are not UTF-8 either.
    if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return i;
    i += n + 1;
  }
  return -1;
}

/** The body decoded as UTF-8; 400 INVALID_UTF8 naming the byte offset otherwise. */
export function utf8Text(bytes: Buffer): string {
  const at = invalidUtf8Offset(bytes);
  if (at >= 0) {
    throw badRequest(`the body is not valid UTF-8: byte ${at} (0x${bytes[at].toString(16).padStart(2, '0')}) does not start or continue a UTF-8 character; send JSON encoded as UTF-8 (nothing was written)`, 'INVALID_UTF8');
  }
  return bytes.toString('utf8');
}

/** A fastify body parser (parseAs: 'buffer') that hands the route the body as strict UTF-8 text. */
export function utf8TextParser(_request: FastifyRequest, body: string | Buffer, done: (err: Error | null, body?: unknown) => void): void {
  try {
    done(null, typeof body === 'string' ? body : utf8Text(body));
  } catch (err) {
    done(err as Error);
  }
}

/**
 * A preValidation hook that makes a multipart/form-data body the plain object an urlencoded form
 * gives: field values as text, files as their bytes, a name given more than once as an array.
 * @fastify/multipart's `attachFieldsToBody: 'keyValues'` does the same, but at registration it
 * touches globalThis.FormData, which loads Node's whole fetch implementation at every start.
 */
export async function multipartFormFields(request: FastifyRequest): Promise<void> {
  if (!request.isMultipart()) return;
  const body: Record<string, unknown> = {};
  for await (const part of request.parts()) {
    const value = part.type === 'file' ? await part.toBuffer() : part.value;
    const before = body[part.fieldname];
    body[part.fieldname] = before === undefined ? value : Array.isArray(before) ? [...before, value] : [before, value];
  }
  request.body = body;
}
