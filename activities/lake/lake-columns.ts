// The columns of a lake hour (Parquet): the raw tables' columns of every event type, as one wide
// row (a column another type does not have is null, which costs nothing in Parquet), then
// `contract_error`, `raw_table_csv` (the row of its raw table as CSV, what the load COPYs: the line
// is parsed and checked once, here, not again by the load) and `raw`, the line as it came (fields
// beyond the contract stay readable). The
// columns and their types come from the raw tables' definition (warehouse-schema.ts), so the lake
// and the warehouse never disagree on a name or a type. Pure.

import { createHash } from 'node:crypto';
import type { SchemaElement } from 'hyparquet';
import type { EventType } from '../../lib/events/enums.ts';
import { csvFields, parseStoredLine, rowOf, type StoredLine, type Value } from '../rows.ts';
import { COMMON_COLUMNS, columnsOf, TYPE_COLUMNS } from '../warehouse-schema.ts';

/** A PostgreSQL column type as a Parquet column (all optional: a line off the contract has none). */
function elementsOf(name: string, pgType: string): SchemaElement[] {
  const base = pgType.replace(/\s+(NOT NULL|PRIMARY KEY).*$/i, '').trim();
  const optional = { name, repetition_type: 'OPTIONAL' } as const;
  switch (base) {
    case 'text':
      return [{ ...optional, type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } }];
    case 'int':
      return [{ ...optional, type: 'INT32' }];
    case 'double precision':
      return [{ ...optional, type: 'DOUBLE' }];
    case 'numeric(14,2)':
      return [
        {
          ...optional,
          type: 'INT64',
          converted_type: 'DECIMAL',
          precision: 14,
          scale: 2,
          logical_type: { type: 'DECIMAL', precision: 14, scale: 2 },
        },
      ];
    // JSON text as a string: every engine reads it as text (DuckDB reads the JSON logical type
    // alone as a BLOB, and hyparquet-writer's JSON converted type would encode the text again).
    case 'jsonb':
      return [{ ...optional, type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } }];
    case 'int[]':
      return [
        { ...optional, converted_type: 'LIST', logical_type: { type: 'LIST' }, num_children: 1 },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
        { name: 'element', type: 'INT32', repetition_type: 'REQUIRED' },
      ];
    case 'timestamptz':
      // Microseconds, as PostgreSQL keeps them.
      return [
        {
          ...optional,
          type: 'INT64',
          converted_type: 'TIMESTAMP_MICROS',
          logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' },
        },
      ];
    case 'date':
      return [{ ...optional, type: 'INT32', converted_type: 'DATE', logical_type: { type: 'DATE' } }];
    default:
      throw new Error(`no Parquet type for the column ${name} (${pgType})`);
  }
}

/** Every column once, in table order: the common ones, then each type's own (shared names once). */
function lakeColumnTypes(): [string, string][] {
  const seen = new Map<string, string>();
  for (const [name, type] of [...COMMON_COLUMNS, ...Object.values(TYPE_COLUMNS).flat()]) {
    const base = type.replace(/\s+(NOT NULL|PRIMARY KEY).*$/i, '');
    const before = seen.get(name);
    if (before !== undefined && before !== base)
      throw new Error(`column ${name} is ${before} in one table and ${base} in another`);
    seen.set(name, base);
  }
  return [...seen];
}

// Built on first use: warehouse-schema.ts imports compaction, which imports this module.
let built: { types: Map<string, string>; columns: string[]; schema: SchemaElement[] } | undefined;
function lake() {
  if (built) return built;
  const types = lakeColumnTypes();
  const columns = [...types.map(([n]) => n), 'contract_error', 'raw_table_csv', 'raw'];
  const schema: SchemaElement[] = [
    { name: 'root', num_children: columns.length },
    ...types.flatMap(([n, t]) => elementsOf(n, t)),
    ...elementsOf('contract_error', 'text'),
    ...elementsOf('raw_table_csv', 'text'),
    {
      name: 'raw',
      type: 'BYTE_ARRAY',
      converted_type: 'UTF8',
      logical_type: { type: 'STRING' },
      repetition_type: 'REQUIRED',
    },
  ];
  built = { types: new Map(types), columns, schema };
  return built;
}

/** The top-level columns of a lake file, in order. */
export const lakeColumns = (): string[] => lake().columns;

/** The Parquet schema of a lake file. */
export const lakeSchema = (): SchemaElement[] => lake().schema;

let layout: string | undefined;
/**
 * What `raw_table_csv` was written for: a hash of every raw table's columns and types. A lake file of
 * another layout (older, or the tables changed since) is loaded from its `raw` lines instead.
 */
export function rawTableCsvLayout(): string {
  layout ??= createHash('sha256')
    // The columns and their types, and the version of rowOf's text (bump it when that changes).
    .update(JSON.stringify(['rowOf/1', COMMON_COLUMNS, TYPE_COLUMNS]))
    .digest('hex')
    .slice(0, 16);
  return layout;
}

/** An instant's text (any offset, up to nanoseconds) as microseconds since the epoch, exactly. */
export function epochMicros(text: string): bigint | null {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) return null;
  // Date.parse keeps milliseconds; the fraction's 4th to 6th digits are the microseconds beyond them.
  const fraction = /[T ]\d{2}:\d{2}:\d{2}\.(\d+)/.exec(text)?.[1] ?? '';
  const extra = Number(fraction.slice(3, 6).padEnd(3, '0'));
  // (Before 1970 too: the milliseconds count from the same second as the fraction.)
  return BigInt(ms) * 1000n + BigInt(extra);
}

/** A raw-table value (rows.ts gives them as text for COPY) as its Parquet column's value. */
function lakeValue(pgType: string, v: Value): unknown {
  if (v === null || v === undefined) return null;
  switch (pgType) {
    case 'timestamptz':
      return epochMicros(String(v));
    case 'date':
      return new Date(`${String(v).slice(0, 10)}T00:00:00Z`);
    case 'int[]':
      return String(v)
        .replace(/^\{|\}$/g, '')
        .split(',')
        .filter(Boolean)
        .map(Number);
    default:
      return v;
  }
}

export type LakeRow = Record<string, unknown>;

/**
 * A stored line as a lake row: typed columns when it meets the contract, its text always. `parsed`
 * is the line's parseStoredLine, when the caller has it already.
 */
export function lakeRow(line: string, parsed: StoredLine = parseStoredLine(line)): LakeRow {
  const row: LakeRow = {};
  if (parsed.ok) {
    const e = parsed.event;
    const values = rowOf(e);
    const names = columnsOf(e.event_type as EventType);
    for (let i = 0; i < names.length; i++) {
      const name = names[i] as string;
      row[name] = lakeValue(lake().types.get(name) as string, values[i]);
    }
    row.raw_table_csv = csvFields(values);
  } else {
    row.contract_error = parsed.error;
  }
  row.raw = line;
  return row;
}
