// Pipeline monitoring from the services themselves, composed from one module per concern: service
// probes, the streaming workers' metrics, consumer lag, dead letters, and the batch runs and
// schedule from Temporal. Connections are opened on first use and shared by all of them.
import type cassandraDriver from 'cassandra-driver';
import type { Kafka } from 'kafkajs';
import type pg from 'pg';
import type { Config } from '../../lib/config.ts';
import type { Logger } from '../../lib/log.ts';
import type {
  BatchRun,
  DeadLettersAnswer,
  IngestionAnswer,
  LagAnswer,
  ReconcileAnswer,
  ScheduleAnswer,
  ServiceHealth,
} from '../api-types.ts';
import { BatchRuns } from './batch-runs.ts';
import { batchSchedule } from './batch-schedule.ts';
import { MonitoringConnections } from './connections.ts';
import { DeadLetterReader } from './dead-letters.ts';
import { consumerLag } from './lag.ts';
import { reconciliation } from './reconciliation.ts';
import { probeServices } from './service-probes.ts';
import { StreamMetrics } from './stream-metrics.ts';

export { withTimeout } from './time-limit.ts';

export class Monitoring {
  private readonly connections: MonitoringConnections;
  private readonly streamMetrics: StreamMetrics;
  private readonly deadLetterReader: DeadLetterReader;
  private readonly runs: BatchRuns;

  constructor(
    private readonly config: Config,
    kafka: Kafka,
    private readonly cassandra: cassandraDriver.Client,
    private readonly pool: pg.Pool,
    log: Logger,
  ) {
    this.connections = new MonitoringConnections(config, kafka);
    this.streamMetrics = new StreamMetrics(config.DASHBOARD_STREAM_METRICS_URLS);
    this.deadLetterReader = new DeadLetterReader(config, this.connections, log);
    this.runs = new BatchRuns(config, this.connections);
  }

  health(): Promise<ServiceHealth[]> {
    const { config, connections, cassandra, pool, streamMetrics } = this;
    return probeServices({ config, connections, cassandra, pool, streamMetrics });
  }

  ingestion(): Promise<IngestionAnswer> {
    return this.streamMetrics.ingestion();
  }

  lag(): Promise<LagAnswer> {
    return consumerLag(this.config, this.connections);
  }

  deadLetters(): Promise<DeadLettersAnswer> {
    return this.deadLetterReader.answer();
  }

  batchRuns(limit: number): Promise<BatchRun[]> {
    return this.runs.newest(limit);
  }

  reconciliation(limit: number): Promise<ReconcileAnswer> {
    return reconciliation(this.config, this.pool, limit);
  }

  schedule(): Promise<ScheduleAnswer> {
    return batchSchedule(this.config, this.connections);
  }

  async close(): Promise<void> {
    await this.deadLetterReader.close();
    await this.connections.close();
  }
}
