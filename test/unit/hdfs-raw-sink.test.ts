// The streaming worker's HDFS protocol on an in-memory HDFS that behaves like a DataNode stopped
// mid-write: the file it was writing stays open under a lease of a client that is gone, so writing
// it again is refused and reading it fails (until the NameNode's lease limit, 20 minutes). A retried
// flush must never touch such a file; recovery must find the newest complete marker. The protocol
// under real faults (kill -9, a frozen member, DataNode restarts): streaming-faults.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hourDir } from '../../lib/hdfs-layout.ts';
import { HdfsRawSink } from '../../workers/streaming/hdfs-raw-sink.ts';
import {
  claimsDir,
  epochName,
  markerName,
  markersDir,
  type PendingLine,
} from '../../workers/streaming/raw-layout.ts';
import { LeasingHdfs, type MemoryHdfs } from '../helpers/memory-hdfs.ts';

const ROOT = '/raw';
const TOPIC = 'LogEvents';
const at = new Date('2026-07-01T10:15:00Z');
const pending = (from: number, to: number): PendingLine[] =>
  Array.from({ length: to - from + 1 }, (_, k) => ({
    offset: BigInt(from + k),
    at,
    line: Buffer.from(JSON.stringify({ event_id: `e${from + k}` })),
  }));

/** Every line of the hour's data files, in path order. */
function hourLines(hdfs: MemoryHdfs): string[] {
  return [...hdfs.files.entries()]
    .filter(([p]) => p.startsWith(`${hourDir(ROOT, TOPIC, at)}/`))
    .sort(([a], [b]) => a.localeCompare(b))
    .flatMap(([, body]) => body.toString('utf8').split('\n').filter(Boolean));
}

describe('HDFS raw sink: writes cut short by a DataNode stop', () => {
  it('a retried flush writes new temporary files and a new marker, never the open ones', async () => {
    const hdfs = new LeasingHdfs();
    const sink = new HdfsRawSink(hdfs, ROOT, TOPIC);
    assert.equal(await sink.recover(0), undefined, 'nothing in HDFS yet');

    hdfs.cutNextWrite(/\/_tmp\//);
    await assert.rejects(sink.flush(0, pending(0, 2), 2n), /socket hang up/);
    await sink.flush(0, pending(0, 2), 2n);

    hdfs.cutNextWrite(/\/_markers\//);
    await assert.rejects(sink.flush(0, pending(3, 4), 4n), /socket hang up/);
    await sink.flush(0, pending(3, 4), 4n);

    assert.deepEqual(
      hourLines(hdfs),
      ['e0', 'e1', 'e2', 'e3', 'e4'].map((id) => JSON.stringify({ event_id: id })),
      'each line once, in offset order',
    );
    const markers = [...hdfs.files.keys()].filter((p) => p.startsWith(markersDir(ROOT, TOPIC, 0)));
    assert.equal(markers.length, 1, `only the newest marker is kept: ${markers.join(', ')}`);

    // Another member takes the partition over: it resumes after offset 4.
    const next = new HdfsRawSink(hdfs, ROOT, TOPIC);
    assert.equal(await next.recover(0), 4n);
  });

  it('recovery passes over a marker left open by a DataNode stop, as over a torn one', async () => {
    const hdfs = new LeasingHdfs();
    const sink = new HdfsRawSink(hdfs, ROOT, TOPIC);
    await sink.recover(0);
    await sink.flush(0, pending(0, 2), 2n);
    hdfs.cutNextWrite(/\/_markers\//);
    await assert.rejects(sink.flush(0, pending(3, 4), 4n), /socket hang up/);
    // The open marker is the newest and cannot be read ("Cannot obtain block length"): the
    // partition resumes after the last marker that was written whole, and offsets 3-4 come again.
    const next = new HdfsRawSink(hdfs, ROOT, TOPIC);
    assert.equal(await next.recover(0), 2n);
    await next.flush(0, pending(3, 4), 4n);
    assert.deepEqual(
      hourLines(hdfs),
      ['e0', 'e1', 'e2', 'e3', 'e4'].map((id) => JSON.stringify({ event_id: id })),
      'each line once, in offset order',
    );
    assert.equal(await new HdfsRawSink(hdfs, ROOT, TOPIC).recover(0), 4n);
  });

  it('recovery takes the newest marker that parses: highest epoch, then highest write', async () => {
    const hdfs = new LeasingHdfs();
    const dir = markersDir(ROOT, TOPIC, 0);
    await hdfs.writeFile(`${claimsDir(ROOT, TOPIC, 0)}/${epochName(1)}`, 'earlier member');
    const marker = (end: number) => JSON.stringify({ epoch: 1, start: '0', end: String(end), moves: [] });
    await hdfs.writeFile(`${dir}/${markerName(1, 2)}`, marker(5));
    await hdfs.writeFile(`${dir}/${markerName(1, 9)}`, marker(9)); // 9 < 10 as numbers, not as text
    await hdfs.writeFile(`${dir}/${markerName(1, 10)}`, '{"epoch":1,"sta'); // cut short by a crash
    await hdfs.writeFile(`${dir}/${epochName(0)}.json`, marker(99)); // an older epoch, whatever its end
    const sink = new HdfsRawSink(hdfs, ROOT, TOPIC);
    assert.equal(await sink.recover(0), 9n);
    const left = [...hdfs.files.keys()].filter((p) => p.startsWith(dir)).map((p) => p.slice(dir.length + 1));
    assert.ok(
      left.every((n) => n.startsWith(epochName(2))),
      `the new claim's marker replaces the earlier claims': ${left.join(', ')}`,
    );
  });
});
