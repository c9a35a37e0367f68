// The Temporal client, configured from the environment.
import { Client, Connection } from '@temporalio/client';
import type { Config } from '../config.ts';

export async function connectTemporal(
  config: Pick<Config, 'TEMPORAL_ADDRESS' | 'TEMPORAL_NAMESPACE'>,
): Promise<Client> {
  const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  return new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
}

/** Identities of the worker processes polling `taskQueue` for workflow or for activity tasks. */
export async function queuePollers(
  client: Client,
  namespace: string,
  taskQueue: string,
  kind: 'workflow' | 'activity',
): Promise<string[]> {
  const res = await client.workflowService.describeTaskQueue({
    namespace,
    taskQueue: { name: taskQueue },
    taskQueueType: kind === 'workflow' ? 1 : 2, // TASK_QUEUE_TYPE_WORKFLOW, TASK_QUEUE_TYPE_ACTIVITY
  });
  return (res.pollers ?? []).map((p) => String(p.identity));
}
