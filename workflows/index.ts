// Every workflow the batch worker runs (the worker bundles this file).
export { hdfsToWarehouse } from './hdfs-to-warehouse.ts';
