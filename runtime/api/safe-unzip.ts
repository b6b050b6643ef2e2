/**
 * Reading uploaded zip archives without trusting them. The central directory is read first (the
 * entry count is checked before anything is inflated); only the entries the caller wants are
 * inflated, each with a cap on its output, so an archive that inflates far beyond its size (a zip
 * bomb) is stopped after at most the cap, not after it filled the memory. Sizes the archive
 * declares are never relied on.
 */
import { inflateRawSync } from 'node:zlib';
import { ApiError, badRequest } from './errors.js';

export interface ZipLimits {
  /** Bytes all inflated entries may add up to. */
  totalBytes: number;
  /** Entries the archive may list (directories and skipped files included). */
  entries: number;
  /** How many times its compressed size an entry may inflate to (checked beyond 1 MiB). */
  ratio: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = { totalBytes: 64 * 1024 * 1024, entries: 10_000, ratio: 200 };

/** Below this, any ratio is fine: small, very regular files compress extremely well. */
const RATIO_FLOOR = 1024 * 1024;

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

function mib(bytes: number): string {
  return `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MiB`;
}

function tooLarge(message: string): ApiError {
  return new ApiError(413, 'PAYLOAD_TOO_LARGE', `${message}; nothing was changed`);
}

function invalid(message: string): ApiError {
  return badRequest(`the body is not a valid zip archive: ${message}`, 'INVALID_ZIP');
}

export interface ZipEntry {
  path: string;
  bytes: Buffer;
}

/** The entries of `data` whose path `wanted` accepts, inflated within `limits` (413 beyond them, 400 for broken archives). */
export function readZip(data: Uint8Array, wanted: (path: string) => boolean, limits: ZipLimits = DEFAULT_ZIP_LIMITS): ZipEntry[] {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw invalid('its end of central directory record is missing');
  const count = buf.readUInt16LE(eocd + 10);
  const directoryOffset = buf.readUInt32LE(eocd + 16);
  if (count === 0xffff || directoryOffset === 0xffffffff) throw invalid('ZIP64 archives are not supported (config archives are small)');
  if (count > limits.entries) throw tooLarge(`the zip archive has ${count} entries, more than the limit of ${limits.entries}`);

  const out: ZipEntry[] = [];
  let total = 0;
  let at = directoryOffset;
  for (let n = 0; n < count; n++) {
    if (at + 46 > buf.length || buf.readUInt32LE(at) !== CENTRAL) throw invalid(`entry ${n + 1} of its central directory is damaged`);
    const flags = buf.readUInt16LE(at + 8);
    const method = buf.readUInt16LE(at + 10);
    const compressed = buf.readUInt32LE(at + 20);
    const nameLength = buf.readUInt16LE(at + 28);
    const next = at + 46 + nameLength + buf.readUInt16LE(at + 30) + buf.readUInt16LE(at + 32);
    const localOffset = buf.readUInt32LE(at + 42);
    const path = buf.toString(flags & 0x800 ? 'utf8' : 'latin1', at + 46, at + 46 + nameLength);
    at = next;
    if (!wanted(path)) continue;
    if (flags & 0x1) throw invalid(`entry "${path}" is encrypted`);
    if (localOffset + 30 > buf.length || buf.readUInt32LE(localOffset) !== LOCAL) throw invalid(`the local header of entry "${path}" is missing`);
    const start = localOffset + 30 + buf.readUInt16LE(localOffset + 26) + buf.readUInt16LE(localOffset + 28);
    if (start + compressed > buf.length) throw invalid(`entry "${path}" runs past the end of the archive`);
    const raw = buf.subarray(start, start + compressed);
    const remaining = limits.totalBytes - total;
    const ratioCap = Math.max(RATIO_FLOOR, compressed * limits.ratio);
    let bytes: Buffer;
    if (method === 0) {
      if (raw.length > remaining) throw tooLarge(`the zip archive's config files add up to more than the limit of ${mib(limits.totalBytes)}`);
      bytes = Buffer.from(raw);
    } else if (method === 8) {
      try {
        bytes = inflateRawSync(raw, { maxOutputLength: Math.max(1, Math.min(remaining, ratioCap)) });
      } catch (err) {
        if ((err as { code?: string }).code !== 'ERR_BUFFER_TOO_LARGE') throw invalid(`entry "${path}" does not inflate: ${(err as Error).message}`);
        if (ratioCap < remaining) throw tooLarge(`zip entry "${path}" inflates to more than ${limits.ratio} times its compressed size of ${compressed} bytes (a zip bomb?)`);
        throw tooLarge(`the zip archive's config files inflate to more than the limit of ${mib(limits.totalBytes)}`);
      }
    } else throw invalid(`entry "${path}" uses compression method ${method} (only stored and deflated entries are read)`);
    total += bytes.length;
    out.push({ path, bytes });
  }
  return out;
}
