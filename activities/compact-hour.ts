// Compaction of a closed hour: its raw files (and the hour's previous compacted file, when late
// files arrived after it) are merged into one Parquet file deduplicated by event_id, under
// <lake root>/<topic>/dt=…/hour=…/ (columns: lake/lake-columns.ts). Steps, each safe to repeat
// after a crash:
//   1. write the merged file under a name derived from its inputs (a temporary name of the
//      attempt's own, then rename);
//   2. record the compaction (inputs and output) in PostgreSQL;
//   3. only then remove the inputs.
// A retry finds the recorded compaction and only finishes step 3 (finishPendingCompactions does it
// first for every record, since a crash after the last removal leaves the hour with no raw file to
// list); an input set that changed (a late file) gives another name and is merged again, so nothing
// is lost and nothing is doubled.

import { createHash, randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { HdfsStore } from '../lib/clients/hdfs.ts';
import { compactedFileName, type HourKey, isParquetName, temporaryName } from '../lib/hdfs-layout.ts';
import { fileLines } from './data-file-lines.ts';
import { EventKeySet } from './event-key-set.ts';
import { type LakeRow, lakeRow } from './lake/lake-columns.ts';
import { lakeFileLineBytes, lakeFileRows, writeLakeFile } from './lake/parquet-file.ts';
import { parseStoredLine } from './rows.ts';

export interface HourToCompact extends HourKey {
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

export function compactionDdl(schema: string): string {
  return `CREATE TABLE IF NOT EXISTS ${schema}.compactions (
    output text PRIMARY KEY, dt date NOT NULL, hour int NOT NULL, inputs text[] NOT NULL,
    events int NOT NULL, inputs_removed boolean NOT NULL DEFAULT false, at timestamptz NOT NULL DEFAULT now())`;
}

/**
 * Whether `line` is the first copy of its event in `seen`, which it then joins. Two lines are the
 * same event when they have the same event_id and event_type (an id that two types use names two
 * events, both kept, as the raw tables keep both); a line without an id is only the same as an
 * identical line.
 */
export function isFirstCopy(seen: EventKeySet, line: string): boolean {
  try {
    const e = JSON.parse(line) as { event_id?: unknown; event_type?: unknown };
    if (typeof e.event_id === 'string') return seen.add(String(e.event_type), e.event_id, line);
  } catch {
    // not JSON: the line is its own key
  }
  return seen.add('', undefined, line);
}

/** Lines in an HDFS file (a lake file's from its footer), or undefined when it is missing. */
async function linesIn(hdfs: HdfsStore, path: string): Promise<number | undefined> {
  if (!(await hdfs.stat(path))) return undefined;
  if (isParquetName(path)) return lakeFileRows(hdfs, path);
  let n = 0;
  for await (const chunk of fileLines(hdfs, path)) for (const line of chunk) if (line) n++;
  return n;
}

const NEWLINE = Uint8Array.of(0x0a);

/**
 * The lines of a data file and the SHA-256 of their text (each line and its newline), read a chunk
 * at a time. A lake file's lines are hashed as the bytes it holds (what the UTF-8 of the merged
 * lines gives), without decoding them.
 */
async function contentOf(hdfs: HdfsStore, path: string): Promise<{ lines: number; sha256: string }> {
  const hash = createHash('sha256');
  let lines = 0;
  if (isParquetName(path)) {
    for await (const chunk of lakeFileLineBytes(hdfs, path)) {
      for (const line of chunk) {
        if (!line.length) continue;
        hash.update(line).update(NEWLINE);
        lines++;
      }
    }
    return { lines, sha256: hash.digest('hex') };
  }
  for await (const chunk of fileLines(hdfs, path)) {
    for (const line of chunk) {
      if (!line) continue;
      hash.update(`${line}\n`);
      lines++;
    }
  }
  return { lines, sha256: hash.digest('hex') };
}

/** Removes the inputs of a recorded compaction, once its output is there with all its events. */
async function removeInputs(
  hdfs: HdfsStore,
  pool: pg.Pool,
  schema: string,
  output: string,
  inputs: string[],
): Promise<void> {
  for (const path of inputs) {
    if (path !== output && (await hdfs.stat(path))) await hdfs.remove(path);
  }
  await pool.query(`UPDATE ${schema}.compactions SET inputs_removed = true WHERE output = $1`, [output]);
}

/**
 * Finishes compactions (of every hour, or of `only`) that a crash left between their record and the
 * end of step 3. Their hour may
 * have no raw file left (the crash came after the last removal), so listing hours would never find
 * them again. An output that is missing or short drops its record instead: its inputs were not
 * removed (removal starts only after the output is checked), and the hour is compacted afresh.
 */
export async function finishPendingCompactions(
  hdfs: HdfsStore,
  pool: pg.Pool,
  schema: string,
  only?: HourKey,
): Promise<number> {
  const pending = await pool.query<{ output: string; inputs: string[]; events: number }>(
    `SELECT output, inputs, events FROM ${schema}.compactions
     WHERE NOT inputs_removed ${only ? 'AND dt = $1::date AND hour = $2' : ''} ORDER BY at`,
    only ? [only.dt, only.hour] : [],
  );
  for (const c of pending.rows) {
    if ((await linesIn(hdfs, c.output)) === c.events) {
      await removeInputs(hdfs, pool, schema, c.output, c.inputs);
    } else {
      await pool.query(`DELETE FROM ${schema}.compactions WHERE output = $1 AND NOT inputs_removed`, [
        c.output,
      ]);
    }
  }
  return pending.rowCount ?? 0;
}

/** What a merge wrote: its lines (events), the file's bytes, and the SHA-256 of the lines' text. */
export interface MergedFile {
  lines: number;
  bytes: number;
  sha256: string;
}

/**
 * Merges the inputs' lines, in input order, into the lake file `tmp`, each event once (see
 * isFirstCopy); empty lines are dropped. Inputs are read a chunk at a time and the output written a
 * row group at a time: memory holds the ids of the hour (to deduplicate) and one row group, never
 * the hour. An empty merge writes a file of no rows.
 */
export async function mergeInputs(
  hdfs: HdfsStore,
  inputs: string[],
  tmp: string,
  rowGroupRows?: number,
): Promise<MergedFile> {
  const seen = new EventKeySet();
  const kept = createHash('sha256');
  let lines = 0;
  async function* rows(): AsyncGenerator<LakeRow> {
    for (const path of inputs) {
      for await (const chunk of fileLines(hdfs, path)) {
        for (const line of chunk) {
          if (!line) continue;
          // One parse per line: a canonical line's event is JSON.parse of the line, so its id and
          // type are what isFirstCopy would read; any other line is keyed by isFirstCopy itself.
          const parsed = parseStoredLine(line);
          const first =
            parsed.ok && parsed.canonical
              ? seen.add(parsed.event.event_type, parsed.event.event_id, line)
              : isFirstCopy(seen, line);
          if (!first) continue;
          kept.update(`${line}\n`);
          lines++;
          yield lakeRow(line, parsed);
        }
      }
    }
  }
  const bytes = await writeLakeFile(hdfs, tmp, rows(), rowGroupRows);
  return { lines, bytes, sha256: kept.digest('hex') };
}

export async function compactHour(
  hdfs: HdfsStore,
  pool: pg.Pool,
  schema: string,
  outDir: string,
  target: HourToCompact,
): Promise<CompactionResult> {
  const inputs = [...target.inputs].sort();
  const name = compactedFileName(createHash('sha256').update(inputs.join('\n')).digest('hex'));
  const output = `${outDir}/${name}`;
  const recorded = await pool.query<{ events: number }>(
    `SELECT events FROM ${schema}.compactions WHERE output = $1`,
    [output],
  );
  const events = recorded.rows[0]?.events;
  if (events !== undefined && (await linesIn(hdfs, output)) === events) {
    await removeInputs(hdfs, pool, schema, output, inputs);
    return { dt: target.dt, hour: target.hour, inputs: inputs.length, events, output, resumed: true };
  }
  // A temporary name of this attempt's own: an attempt cut short (a DataNode stopped mid-write) can
  // leave its file open under the lease of a client that is gone, and HDFS refuses to write that
  // file again until the lease is recovered. Earlier attempts' files go first (HDFS deletes open files).
  const prefix = temporaryName(name);
  for (const f of await hdfs.listIfExists(outDir)) {
    if (f.pathSuffix.startsWith(prefix)) await hdfs.remove(`${outDir}/${f.pathSuffix}`);
  }
  const tmp = `${outDir}/${prefix}-${randomBytes(6).toString('hex')}`;
  const { lines, bytes, sha256 } = await mergeInputs(hdfs, inputs, tmp);
  // An output without a matching record (a crash before the record, or one cut short) is not
  // trusted: HDFS will not rename onto an existing file, so it goes first. Its inputs are all still
  // there, since removal only starts after the check below.
  if (await hdfs.stat(output)) await hdfs.remove(output);
  await hdfs.rename(tmp, output);
  // Inputs are removed only once the output, read back, is exactly what was merged: every event
  // (the same lines, so the same count and ids) and nothing else.
  const back = await contentOf(hdfs, output);
  if (back.lines !== lines || back.sha256 !== sha256) {
    throw new Error(
      `compacted file ${output} (${bytes} bytes) read back differs from what was merged (${back.lines} lines, ${lines} expected)`,
    );
  }
  await pool.query(
    `INSERT INTO ${schema}.compactions (output, dt, hour, inputs, events) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (output) DO UPDATE SET events = EXCLUDED.events, inputs = EXCLUDED.inputs`,
    [output, target.dt, target.hour, inputs, lines],
  );
  await removeInputs(hdfs, pool, schema, output, inputs);
  return {
    dt: target.dt,
    hour: target.hour,
    inputs: inputs.length,
    events: lines,
    output,
    resumed: false,
  };
}
