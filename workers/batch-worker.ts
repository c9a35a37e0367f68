// Entry point of the batch worker process: `./logpipe worker batch`. A Temporal worker on task
// queue `batch`; several may run at once. SIGTERM stops polling and lets running activities finish.
import { NativeConnection, Worker } from '@temporalio/worker';
import { createBatchActivities } from '../activities/batch-activities.ts';
import { stopDbtServers } from '../activities/dbt-step.ts';
import { createCassandra } from '../lib/clients/cassandra.ts';
import { Hdfs } from '../lib/clients/hdfs.ts';
import { createPgPool } from '../lib/clients/postgres.ts';
import { type Config, loadConfig } from '../lib/config.ts';
import { activityPause } from '../lib/failpoints.ts';
import { createLogger } from '../lib/log.ts';
import { prebuiltWorkflowBundle } from '../lib/workflow-bundle.ts';

/**
 * PostgreSQL connections a batch worker needs: a load group holds two (two files load at once,
 * each in its transaction), a compaction two (its hour's lock and its queries), the checks and dbt
 * one; and a spare. Too small a pool would make activities wait on each other until they time out.
 */
export const batchPoolSize = (config: Pick<Config, 'BATCH_WORKER_ACTIVITIES'>) =>
  2 * config.BATCH_WORKER_ACTIVITIES + 1;

export async function runBatchWorker(): Promise<void> {
  const config = loadConfig();
  const log = createLogger('batch-worker');
  const pool = createPgPool(config, batchPoolSize(config));
  const cassandra = createCassandra(config);
  const activities = createBatchActivities({ config, pool, hdfs: new Hdfs(config), cassandra });
  const pauseMs = config.LOGPIPE_FAILPOINT_ACTIVITY_PAUSE_MS;
  if (pauseMs !== undefined)
    log.warn({ pauseMs }, 'test failpoint on: the first attempt of every activity waits before it runs');
  // Bundled in a child process: webpack in this one would set its peak memory (lib/workflow-bundle.ts).
  const codePath = await prebuiltWorkflowBundle(config);
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const worker = await Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.BATCH_TASK_QUEUE,
    workflowBundle: { codePath },
    activities,
    maxConcurrentActivityTaskExecutions: config.BATCH_WORKER_ACTIVITIES,
    shutdownGraceTime: '30 seconds',
    ...(pauseMs !== undefined ? { interceptors: { activity: [activityPause(pauseMs)] } } : {}),
  });
  log.info({ taskQueue: config.BATCH_TASK_QUEUE }, 'batch worker running');
  // The SDK shuts the worker down on SIGINT and SIGTERM; run() returns once it has.
  await worker.run();
  stopDbtServers();
  await connection.close();
  await pool.end();
  await cassandra.shutdown();
  log.info('batch worker stopped');
}
