// Compaction of a closed hour: its raw files (and the hour's previous compacted file, when late
// files arrived after it) are merged into one file deduplicated by event_id, under
// <compacted root>/<topic>/dt=…/hour=…/. Steps, each safe to repeat after a crash:
//   1. write the merged file under a name derived from its inputs (tmp, then rename);
//   2. record the compaction (inputs and output) in PostgreSQL;
//   3. only then remove the inputs.
// A retry finds the recorded compaction and only finishes step 3; an input set that changed (a late
// file) gives another name and is merged again, so nothing is lost and nothing is doubled.
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { Hdfs } from '../lib/clients/hdfs.ts';

export interface HourToCompact {
  dt: string;
  hour: number;
  inputs: string[];
}

export interface CompactionResult {
  dt: string;
  hour: number;
  inputs: number;
  events: number;
  output: string;
  resumed: boolean;
}

export const compactedDir = (root: string, topic: string, dt: string, hour: number) =>
  `${root}/${topic}/dt=${dt}/hour=${String(hour).padStart(2, '0')}`;

export function compactionDdl(schema: string): string {
  return `CREATE TABLE IF NOT EXISTS ${schema}.compactions (
    output text PRIMARY KEY, dt date NOT NULL, hour int NOT NULL, inputs text[] NOT NULL,
    events int NOT NULL, inputs_removed boolean NOT NULL DEFAULT false, at timestamptz NOT NULL DEFAULT now())`;
}

/** Merges lines, keeping the first copy of each event_id. */
export function mergeByEventId(texts: string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const text of texts) {
    for (const line of text.split('\n')) {
      if (!line) continue;
      let id: string | undefined;
      try {
        id = (JSON.parse(line) as { event_id?: string }).event_id;
      } catch {
        id = undefined;
      }
      const key = id ?? `line:${line}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(line);
    }
  }
  return out;
}

export async function compactHour(
  hdfs: Hdfs,
  pool: pg.Pool,
  schema: string,
  outDir: string,
  target: HourToCompact,
): Promise<CompactionResult> {
  const inputs = [...target.inputs].sort();
  const name = `compacted-${createHash('sha256').update(inputs.join('\n')).digest('hex').slice(0, 16)}.ndjson`;
  const output = `${outDir}/${name}`;
  const recorded = await pool.query<{ events: number }>(
    `SELECT events FROM ${schema}.compactions WHERE output = $1`,
    [output],
  );
  let events: number;
  let resumed = false;
  if (recorded.rowCount) {
    events = recorded.rows[0]?.events ?? 0;
    resumed = true;
  } else {
    const texts: string[] = [];
    for (const path of inputs) texts.push((await hdfs.readFile(path)).toString('utf8'));
    const lines = mergeByEventId(texts);
    events = lines.length;
    if (!(await hdfs.stat(output))) {
      const tmp = `${outDir}/_tmp-${name}`;
      await hdfs.writeFile(tmp, `${lines.join('\n')}\n`);
      await hdfs.rename(tmp, output);
    }
    await pool.query(
      `INSERT INTO ${schema}.compactions (output, dt, hour, inputs, events) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (output) DO NOTHING`,
      [output, target.dt, target.hour, inputs, events],
    );
  }
  for (const path of inputs) {
    if (path !== output && (await hdfs.stat(path))) await hdfs.remove(path);
  }
  await pool.query(`UPDATE ${schema}.compactions SET inputs_removed = true WHERE output = $1`, [output]);
  return { dt: target.dt, hour: target.hour, inputs: inputs.length, events, output, resumed };
}
