/**
 * The pipe runner endpoints Sesam's client drives in CI (runtime/service/runner.ts does the work):
 *
 * - `POST /api/pipes/run-all-pipes`: runs every pipe until the config settles; `request_mode=sync`
 *   (default) answers `{status, additional_info}` when the job ends, `async` answers at once with a
 *   `token` to poll with.
 * - `POST /api/pipes/stop-run-all-pipes`: stops the running job (fine when none runs).
 * - `GET /api/pipes/get-run-all-pipes-log`: the job log as `[{timestamp, loglevel, logdata}]`.
 * - `GET /api/pipes/get-pipe-runner-status`: `{status}`: running, success, failed, stopped or
 *   not-running (unknown token).
 * - `POST /api/pipes/delete-all-sink-datasets`: deletes every pipe's sink dataset and resets it.
 *
 * These are fixed paths under /api/pipes/; the router matches them before `/api/pipes/{id}`.
 */
import type { FastifyPluginAsync } from 'fastify';
import { deleteAllSinkDatasets, pipeRunner, RunnerBusyError, type RunAllOptions } from '../service/runner.js';
import type { SluiceRuntime } from '../service/runtime.js';
import { ApiError, conflict, notFound } from './errors.js';
import { boolParam, intParam, querySchema, stringParam } from './util.js';

interface RunQuery {
  extra_zero_runs?: number;
  max_runs?: number;
  max_run_time?: number;
  request_mode?: 'sync' | 'async';
  delete_input_datasets?: boolean;
  check_input_pipes?: boolean;
  reset_pipes_and_delete_sink_datasets?: boolean;
  output_run_statistics?: boolean;
  scheduler_mode?: 'active' | 'poll';
}

export const runnerPlugin: FastifyPluginAsync<{ runtime: SluiceRuntime }> = async (app, { runtime: rt }) => {
  const runner = pipeRunner(rt);

  app.post(
    '/pipes/run-all-pipes',
    {
      schema: {
        summary: 'Runs every pipe in dependency order until extra_zero_runs consecutive runs change nothing (the pipe runner)',
        description:
          'Before running, pipes are reset and their sink datasets deleted (input pipes, whose source reads no dataset: embedded, http_endpoint, json, sql, rest and the like, only with delete_input_datasets; their failures fail the job only with check_input_pipes). sync answers {status, additional_info} when done (status "success" or "failed"); async answers {status: "running", token} at once.',
        tags: ['pipe runner'],
        querystring: querySchema({
          extra_zero_runs: intParam('Consecutive runs without changes that end the job (default 2)'),
          max_runs: intParam('Runs at most (default 100)', 1),
          max_run_time: intParam('Seconds at most (default 900)'),
          request_mode: { type: 'string', enum: ['sync', 'async'], default: 'sync', description: 'sync: answer when done; async: answer with a token at once' },
          delete_input_datasets: boolParam('Also reset input pipes and delete their sink datasets', true),
          check_input_pipes: boolParam('Failing input pipes fail the job', false),
          reset_pipes_and_delete_sink_datasets: boolParam('Reset the other pipes and delete their sink datasets first', true),
          output_run_statistics: boolParam('Per-pipe statistics in the log and in additional_info', false),
          scheduler_mode: { type: 'string', enum: ['active', 'poll'], description: 'Accepted for compatibility (both run the same way)' },
        }),
      },
    },
    async (request) => {
      const q = request.query as RunQuery;
      const options: RunAllOptions = {
        extraZeroRuns: q.extra_zero_runs,
        maxRuns: q.max_runs,
        maxRunTime: q.max_run_time,
        deleteInputDatasets: q.delete_input_datasets,
        checkInputPipes: q.check_input_pipes,
        resetPipesAndDeleteSinkDatasets: q.reset_pipes_and_delete_sink_datasets,
        outputRunStatistics: q.output_run_statistics,
        schedulerMode: q.scheduler_mode,
      };
      let job;
      try {
        job = runner.start(options);
      } catch (err) {
        if (err instanceof RunnerBusyError) throw conflict(err.message);
        throw err;
      }
      request.log.info({ token: job.token, mode: q.request_mode ?? 'sync' }, 'pipe runner started');
      if (q.request_mode === 'async') return { status: 'running', token: job.token };
      const result = await job.promise;
      return { status: result.status, additional_info: result.additional_info };
    },
  );

  app.post(
    '/pipes/stop-run-all-pipes',
    {
      schema: {
        summary: 'Stops the pipe runner (answers at once when it is not running)',
        tags: ['pipe runner'],
        querystring: querySchema({ terminate_timeout: intParam('Seconds to wait for the running job to end (default 30)') }),
      },
    },
    async (request) => {
      const { terminate_timeout } = request.query as { terminate_timeout?: number };
      const job = runner.current;
      if (!job) return { status: 'not-running' };
      await runner.stop((terminate_timeout ?? 30) * 1000);
      return { status: runner.current === job ? 'stopping' : 'stopped', token: job.token };
    },
  );

  app.get(
    '/pipes/get-run-all-pipes-log',
    {
      schema: {
        summary: 'The pipe runner log: [{timestamp, loglevel, logdata}] after `since` (a timestamp), of the job `token` (default: the latest)',
        tags: ['pipe runner'],
        querystring: querySchema({ since: stringParam('Only lines after this timestamp'), token: stringParam('The job (default: the latest)') }),
      },
    },
    async (request) => {
      const { since, token } = request.query as { since?: string; token?: string };
      const job = runner.job(token);
      if (!job) {
        if (token) throw notFound(`no pipe runner job "${token}"`);
        return [];
      }
      return job.linesSince(since);
    },
  );

  app.get(
    '/pipes/get-pipe-runner-status',
    {
      schema: {
        summary: 'The status of a pipe runner job: running, success, failed, stopped, or not-running (no such job)',
        tags: ['pipe runner'],
        querystring: querySchema({ token: stringParam('The job (default: the latest)') }),
      },
    },
    async (request) => {
      const { token } = request.query as { token?: string };
      const job = runner.job(token);
      if (!job) return { status: 'not-running' };
      return { status: job.status, token: job.token, ...(job.result ? { additional_info: job.result.additional_info } : {}) };
    },
  );

  app.post('/pipes/delete-all-sink-datasets', { schema: { summary: "Deletes every pipe's sink dataset and resets the pipes", tags: ['pipe runner'] } }, async (request) => {
    if (runner.current) throw new ApiError(409, 'CONFLICT', 'the pipe runner is running; stop it first (POST /api/pipes/stop-run-all-pipes)');
    const deleted = await deleteAllSinkDatasets(rt);
    request.log.info({ datasets: deleted.length }, 'sink datasets deleted');
    return { deleted };
  });
};
