// Names shared by the schedule, the CLI and the tests.
export const SCHEDULE_ID = 'hdfs-to-warehouse';
export const BATCH_WORKFLOW_TYPE = 'hdfsToWarehouse';
