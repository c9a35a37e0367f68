// The warehouse's raw layer in PostgreSQL: one table per event type with the original system's
// names and columns (plus event_id as primary key and load metadata), the catalog tables, and the
// manifest of HDFS files already loaded. Applied idempotently before every load.
import type { EventType } from '../lib/events/enums.ts';
import { compactionDdl } from './compact-hour.ts';
import { lakeScanDdl } from './lake-scan.ts';
import { ledgerDdl } from './reconcile/ledger.ts';

/** Columns every event table has, in COPY order. */
export const COMMON_COLUMNS: [string, string][] = [
  ['event_id', 'text PRIMARY KEY'],
  ['schema_version', 'int NOT NULL'],
  ['timestamp', 'timestamptz NOT NULL'],
  ['level', 'text NOT NULL'],
  ['service', 'text NOT NULL'],
  ['event_type', 'text NOT NULL'],
  ['user_id', 'text NOT NULL'],
  ['session_id', 'text NOT NULL'],
  ['product_id', 'text NOT NULL'],
  ['session_duration', 'double precision'],
  ['device_type', 'text'],
  ['geo_country', 'text'],
  ['geo_city', 'text'],
];

export const TYPE_COLUMNS: Record<EventType, [string, string][]> = {
  search: [
    ['query', 'text'],
    ['results_count', 'int'],
    ['filters', 'jsonb'],
    ['searched_at', 'timestamptz'],
  ],
  purchase: [
    ['order_id', 'text'],
    ['amount', 'numeric(14,2)'],
    ['payment_method', 'text'],
    ['items', 'jsonb'],
    ['quantity', 'int[]'],
    ['shipping_address', 'text'],
  ],
  order_complete: [
    ['order_id', 'text NOT NULL'],
    ['amount', 'numeric(14,2)'],
    ['payment_method', 'text'],
    ['items', 'jsonb'],
    ['quantity', 'int[]'],
    ['shipping_method', 'text'],
    ['delivery_estimate', 'date'],
    ['completed_at', 'timestamptz'],
  ],
  order_failed: [
    ['order_id', 'text NOT NULL'],
    ['attempted_amount', 'numeric(14,2)'],
    ['payment_method', 'text'],
    ['failure_reason', 'text'],
    ['failed_at', 'timestamptz'],
  ],
  error: [
    ['error_code', 'text'],
    ['message', 'text'],
    ['error_at', 'timestamptz'],
  ],
};

export const LOAD_COLUMNS: [string, string][] = [
  ['_source_file', 'text NOT NULL'],
  ['_loaded_at', 'timestamptz NOT NULL DEFAULT clock_timestamp()'],
  ['_run_id', 'text'],
];

/** The original system's table names. */
export const TABLE_OF: Record<EventType, string> = {
  search: 'search_response',
  purchase: 'purchase_response',
  order_complete: 'order_complete_response',
  order_failed: 'order_failed_response',
  error: 'error_response',
};

export const columnsOf = (type: EventType) =>
  [...COMMON_COLUMNS, ...TYPE_COLUMNS[type]].map(([name]) => name);

/**
 * `ddl` only when `exists` (a SQL condition on the catalog) is false. Every batch run applies the
 * schema, and on a table that exists an ALTER TABLE takes an ACCESS EXCLUSIVE lock and a CREATE INDEX
 * IF NOT EXISTS a SHARE lock before finding nothing to do: each waits for autovacuum (and cancels
 * it), and while it waits every reader of the table (the dashboard, dbt) queues behind it. bench
 * batch: the schema step of run 2 took 3.0 s, right after run 1's load woke autovacuum.
 */
const unless = (exists: string, ddl: string) =>
  `DO $ddl$ BEGIN IF NOT ${exists} THEN ${ddl}; END IF; END $ddl$`;

/** CREATE INDEX `name` ON `schema.on` unless the index is there (see `unless`). */
const createIndex = (schema: string, name: string, on: string) =>
  unless(
    `to_regclass('${schema}.${name}') IS NOT NULL`,
    `CREATE INDEX IF NOT EXISTS ${name} ON ${schema}.${on}`,
  );

export function schemaDdl(RAW_SCHEMA: string): string[] {
  const ddl = [`CREATE SCHEMA IF NOT EXISTS ${RAW_SCHEMA}`];
  for (const [type, table] of Object.entries(TABLE_OF) as [EventType, string][]) {
    const cols = [...COMMON_COLUMNS, ...TYPE_COLUMNS[type], ...LOAD_COLUMNS].map(([n, t]) => `"${n}" ${t}`);
    ddl.push(`CREATE TABLE IF NOT EXISTS ${RAW_SCHEMA}.${table} (${cols.join(', ')})`);
    ddl.push(createIndex(RAW_SCHEMA, `${table}_loaded_at`, `${table} (_loaded_at)`));
    // `logpipe reconcile` counts an hour's rows from this index's range.
    ddl.push(createIndex(RAW_SCHEMA, `${table}_timestamp`, `${table} ("timestamp")`));
    // The time of the insert itself, not of the transaction's start: see warehouseLock.
    ddl.push(
      unless(
        `EXISTS (SELECT 1 FROM pg_attrdef d JOIN pg_attribute a ON (a.attrelid, a.attnum) = (d.adrelid, d.adnum)
          WHERE d.adrelid = '${RAW_SCHEMA}.${table}'::regclass AND a.attname = '_loaded_at'
            AND pg_get_expr(d.adbin, d.adrelid) = 'clock_timestamp()')`,
        `ALTER TABLE ${RAW_SCHEMA}.${table} ALTER COLUMN _loaded_at SET DEFAULT clock_timestamp()`,
      ),
    );
  }
  ddl.push(`CREATE TABLE IF NOT EXISTS ${RAW_SCHEMA}.users (
    user_id text PRIMARY KEY, username text, email text, full_name text, first_name text, last_name text,
    sex text, age int, country text, city text, signup_date date, _loaded_at timestamptz NOT NULL DEFAULT now())`);
  ddl.push(`CREATE TABLE IF NOT EXISTS ${RAW_SCHEMA}.products (
    product_id text PRIMARY KEY, name text, category text, subcategory text, brand text, description text,
    price numeric(14,2), stock int, rating numeric(3,1), date_added date, weight numeric(8,2),
    _loaded_at timestamptz NOT NULL DEFAULT now())`);
  // One row per HDFS file loaded, written in the same transaction as the file's rows.
  ddl.push(`CREATE TABLE IF NOT EXISTS ${RAW_SCHEMA}.load_manifest (
    path text PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('raw', 'compacted')),
    dt date NOT NULL,
    hour int NOT NULL,
    lines int NOT NULL,
    rows_inserted int NOT NULL,
    rows_duplicate int NOT NULL,
    rows_rejected int NOT NULL,
    run_id text,
    loaded_at timestamptz NOT NULL DEFAULT now())`);
  ddl.push(createIndex(RAW_SCHEMA, 'load_manifest_hour', 'load_manifest (dt, hour)'));
  // Lines of loaded files that could not be loaded: failing the contract, or refused by PostgreSQL.
  // Written in the file's transaction, so a line is quarantined exactly when its file is loaded. The
  // line is kept as bytes: whatever it holds (a NUL included), the quarantine can store it.
  ddl.push(`CREATE TABLE IF NOT EXISTS ${RAW_SCHEMA}.rejected_lines (
    path text NOT NULL,
    line_no int NOT NULL,
    stage text NOT NULL CHECK (stage IN ('contract', 'postgres')),
    error text NOT NULL,
    bytes int NOT NULL,
    line bytea NOT NULL,
    run_id text,
    rejected_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (path, line_no))`);
  ddl.push(compactionDdl(RAW_SCHEMA));
  ddl.push(ledgerDdl(RAW_SCHEMA));
  ddl.push(...lakeScanDdl(RAW_SCHEMA));
  // One row per batch dbt build: what it covered (the raw tables' newest _loaded_at), which rows its
  // generic tests read (tests_since; null for a full sweep), and how it ended. The next build's plan
  // reads the last success; dbt's get_where_subquery reads the running one.
  ddl.push(`CREATE TABLE IF NOT EXISTS ${RAW_SCHEMA}.dbt_builds (
    run_id text NOT NULL,
    started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at timestamptz,
    loaded_upto timestamptz,
    tests_since timestamptz,
    snapshot boolean NOT NULL,
    status text NOT NULL CHECK (status IN ('running', 'success', 'failed', 'killed')))`);
  return ddl;
}

/**
 * The advisory lock that keeps loads and dbt apart: each file's load transaction holds it
 * shared, each dbt command of the batch holds it exclusively. So every row committed after a dbt run was inserted after
 * it (its _loaded_at, the insert's clock time, is later than anything that run saw), and the
 * incremental models can take `_loaded_at > max(_loaded_at)` without missing a late commit.
 */
export const warehouseLock = (RAW_SCHEMA: string) => `logpipe-warehouse:${RAW_SCHEMA}`;
