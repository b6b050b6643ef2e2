/**
 * `npm run kube:start`: starts the test API server (etcd + kube-apiserver, see kube.ts), prints the
 * kubeconfig path and stays up until SIGINT/SIGTERM. With it running, the operator suite can reuse it:
 *   SLUICE_TEST_KUBECONFIG=<path> npm run test:k8s
 * and kubectl works against it:
 *   kubectl --kubeconfig <path> get ns
 */
import { startKube } from './kube.js';

const kube = await startKube();
process.stdout.write(
  `kube-apiserver ${kube.server} is ready (logs in ${kube.dir}).\n` +
    `export KUBECONFIG=${kube.kubeconfig}\n` +
    `Reuse it for the operator tests: SLUICE_TEST_KUBECONFIG=${kube.kubeconfig} npm run test:k8s\n` +
    'Press Ctrl-C to stop.\n',
);
let stopping = false;
const shutdown = (): void => {
  if (stopping) return;
  stopping = true;
  process.stdout.write('stopping...\n');
  kube.stop().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
// Stay up: the child processes keep the event loop alive, but a timer makes that explicit.
setInterval(() => {}, 1 << 30);
