// Names shared by the schedule, the CLI and the tests.
export const SCHEDULE_ID = 'hdfs-to-warehouse';
export const BATCH_WORKFLOW_TYPE = 'hdfsToWarehouse';

/** Failure types the batch activities raise and the workflow does not retry. */
export const FAILURE = {
  /** A broken invariant of the load (a file without its manifest entry, counts that do not add up). */
  validation: 'ValidationFailed',
  /** A dbt model or test failed: the same data fails the same way again. */
  dbt: 'DbtFailed',
} as const;
