import { main } from '../cli/main.js';

main(process.argv).then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof Error ? (process.env.SLUICE_DEBUG ? err.stack : err.message) : String(err));
    process.exitCode = 2;
  },
);
