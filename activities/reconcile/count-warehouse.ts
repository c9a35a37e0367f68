// Per-hour counts from PostgreSQL over a window, one grouped query per layer: the raw tables (by
// their timestamp index), fact_events (by its event_hour index) and the quarantine (by the
// manifest's hour index). Each reads the window's index range only, so the cost follows the
// window's events, not the warehouse's size.
import type pg from 'pg';
import { errorField } from '../../lib/errors.ts';
import { hourKey } from '../../lib/hdfs-layout.ts';
import { TABLE_OF } from '../warehouse-schema.ts';
import { keyOfInstant } from './hour-counts.ts';

export interface WarehouseHour {
  postgres: number;
  /** Distinct event ids of the raw tables' rows (an id two types use counts once). */
  postgresIds: number;
  marts: number;
  quarantined: number;
}

const UNDEFINED_TABLE = '42P01';

/** Per hour key, the warehouse's counts for the hours in [since, until). */
export async function countWarehouseHours(
  pool: pg.Pool,
  schemas: { raw: string; marts: string },
  since: Date,
  until: Date,
): Promise<Map<string, WarehouseHour>> {
  const out = new Map<string, WarehouseHour>();
  const at = (key: string) => {
    const h = out.get(key) ?? { postgres: 0, postgresIds: 0, marts: 0, quarantined: 0 };
    out.set(key, h);
    return h;
  };
  const window = [since.toISOString(), until.toISOString()];
  const raw = Object.values(TABLE_OF)
    .map(
      (t) =>
        `SELECT event_id, date_trunc('hour', "timestamp", 'UTC') AS h FROM ${schemas.raw}.${t}
         WHERE "timestamp" >= $1::timestamptz AND "timestamp" < $2::timestamptz`,
    )
    .join(' UNION ALL ');
  const rows = await pool.query<{ h: Date; events: string; ids: string }>(
    `SELECT h, count(*) AS events, count(DISTINCT event_id) AS ids FROM (${raw}) AS e GROUP BY h`,
    window,
  );
  for (const r of rows.rows) {
    const h = at(keyOfInstant(r.h));
    h.postgres = Number(r.events);
    h.postgresIds = Number(r.ids);
  }
  try {
    const marts = await pool.query<{ h: Date; n: string }>(
      `SELECT event_hour AS h, count(*) AS n FROM ${schemas.marts}.fact_events
       WHERE event_hour >= $1::timestamptz AND event_hour < $2::timestamptz GROUP BY event_hour`,
      window,
    );
    for (const r of marts.rows) at(keyOfInstant(r.h)).marts = Number(r.n);
  } catch (err) {
    // dbt has not built the marts yet: they hold nothing.
    if (errorField(err, 'code') !== UNDEFINED_TABLE) throw err;
  }
  const quarantined = await pool.query<{ dt: string; hour: number; n: string }>(
    `SELECT to_char(m.dt, 'YYYY-MM-DD') AS dt, m.hour, count(*) AS n
     FROM ${schemas.raw}.load_manifest m JOIN ${schemas.raw}.rejected_lines r ON r.path = m.path
     WHERE m.dt BETWEEN ($1::timestamptz AT TIME ZONE 'UTC')::date AND ($2::timestamptz AT TIME ZONE 'UTC')::date
     GROUP BY m.dt, m.hour`,
    window,
  );
  for (const r of quarantined.rows) {
    const key = hourKey(r.dt, r.hour);
    const start = Date.parse(`${key}:00:00Z`);
    if (start >= since.getTime() && start < until.getTime()) at(key).quarantined = Number(r.n);
  }
  return out;
}
