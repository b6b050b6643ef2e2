import { main } from '../cli/main.js';

// A reader that stops early (`sluice validate | head`) closes the pipe: that ends the output, quietly,
// as for any Unix command; other stream errors stay loud.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(process.exitCode ?? 0);
  });
}

main(process.argv).then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof Error ? (process.env.SLUICE_DEBUG ? err.stack : err.message) : String(err));
    process.exitCode = 2;
  },
);
