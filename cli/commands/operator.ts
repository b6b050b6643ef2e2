/**
 * `sluice operator`: runs the operator. In a cluster it uses the pod's service account; for
 * development it runs out of cluster against the current kubeconfig (or --kubeconfig).
 */
import type { Command } from 'commander';
import pino from 'pino';
import type { SetExit } from './shared.js';

export function registerOperator(program: Command, setExit: SetExit): void {
  program
    .command('operator')
    .description('run the Kubernetes operator (in a cluster, or against the current kubeconfig)')
    .option('--kubeconfig <file>', 'kubeconfig file (default: in-cluster config, else KUBECONFIG or ~/.kube/config)', process.env.KUBECONFIG)
    .option('--context <name>', 'kubeconfig context to use')
    .option('-n, --namespace <ns>', 'watch only this namespace (default: all namespaces)', process.env.SLUICE_WATCH_NAMESPACE || undefined)
    .option('--lease-namespace <ns>', 'namespace of the leader-election Lease (default: the watched namespace, else "default")', process.env.POD_NAMESPACE)
    .option('--port <port>', 'port for /healthz, /readyz, /metrics and /webhook', process.env.SLUICE_OPERATOR_PORT ?? '8080')
    .option('--work-dir <dir>', 'where git mirrors are kept', process.env.SLUICE_OPERATOR_WORK_DIR)
    .option('--workers <n>', 'reconciles that may run at once', '2')
    .option('--identity <id>', 'leader-election identity (default: host name and pid)', process.env.POD_NAME)
    .option('--log-level <level>', 'log level', process.env.SLUICE_LOG_LEVEL ?? 'info')
    .action(async (opts) => {
      // Loaded here: the Kubernetes client is large, and other commands (runtime pods) should not wait for it.
      // One after the other: in the compiled bundle the manager require()s the client (an ES module),
      // which Node refuses while a concurrent import() of it is still loading.
      const { Operator } = await import('../../operator/manager.js');
      const { KubeConfig } = await import('@kubernetes/client-node');
      const logger = pino({ level: opts.logLevel, base: { component: 'operator' } });
      const kc = new KubeConfig();
      if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
      else kc.loadFromDefault();
      if (opts.context) kc.setCurrentContext(opts.context);
      const operator = new Operator({
        kc,
        logger,
        namespace: opts.namespace,
        leaseNamespace: opts.leaseNamespace,
        identity: opts.identity,
        port: Number(opts.port),
        workDir: opts.workDir,
        workers: Number(opts.workers),
      });
      await operator.start();
      await new Promise<void>((done) => {
        process.once('SIGINT', () => done());
        process.once('SIGTERM', () => done());
      });
      logger.info('stopping');
      await operator.stop();
      setExit(0);
    });
}
