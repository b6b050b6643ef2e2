/**
 * A small filesystem of its own for disk-full tests: a tmpfs of a fixed size mounted on a temporary
 * folder (mounting needs root, which CI has), with a filler file that takes all but a few bytes of
 * its space and can be removed again.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, ftruncateSync, fstatSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../support/runtime.js';

export interface SmallFs {
  path: string;
  /** Fills the filesystem, leaving `reserveBytes` free. */
  fill(reserveBytes?: number): void;
  /** Removes the filler: the space is free again. */
  free(): void;
  unmount(): void;
}

export function mountSmallFs(sizeBytes: number): SmallFs {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new Error('this test mounts a small tmpfs to fill it up and must run as root (CI does)');
  }
  const path = tempDir('sluice-smallfs-');
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}`, 'tmpfs', path]);
  const filler = join(path, 'filler');
  return {
    path,
    fill(reserveBytes = 0) {
      const fd = openSync(filler, 'w');
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      try {
        for (;;) {
          try {
            writeSync(fd, chunk);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
            throw err;
          }
        }
        // tmpfs counts whole pages: give back the reserve rounded up to them.
        const size = fstatSync(fd).size;
        ftruncateSync(fd, Math.max(0, size - Math.ceil(reserveBytes / 4096) * 4096));
      } finally {
        closeSync(fd);
      }
    },
    free() {
      rmSync(filler, { force: true });
    },
    unmount() {
      execFileSync('umount', ['-l', path]);
      rmSync(path, { recursive: true, force: true });
    },
  };
}
