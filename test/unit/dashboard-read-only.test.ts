// The dashboard writes nowhere: its server-side code (dashboard/**/*.ts outside web/) only SELECTs
// from Cassandra and PostgreSQL, only reads Kafka (the dead-letter topic with its own group,
// committing nothing), changes nothing in Temporal, and imports none of the pipeline's writers; the page only GETs.
// The same is checked against the real stack in test/integration/dashboard-read-only.test.ts.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../../lib/config.ts';

const dir = join(repoRoot, 'dashboard');
const sources = readdirSync(dir, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.ts'))
  .map((f) => ({ file: `dashboard/${f}`, text: readFileSync(join(dir, f), 'utf8') }));
const server = sources.filter((s) => !s.file.startsWith('dashboard/web/'));
const page = sources
  .filter((s) => s.file.startsWith('dashboard/web/'))
  .map((s) => s.text)
  .join('\n');

/** Every string and template literal of a source file. */
const literals = (text: string) =>
  [...text.matchAll(/'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`(?:[^`\\]|\\.)*`/g)].map((m) =>
    m[0].slice(1, -1),
  );

const where = (re: RegExp) =>
  server.flatMap(({ file, text }) =>
    text.split('\n').flatMap((line, i) => (re.test(line) ? [`${file}:${i + 1}: ${line.trim()}`] : [])),
  );

describe('the dashboard is read-only', () => {
  it('every CQL and SQL statement is a SELECT', () => {
    const statements = server.flatMap(({ file, text }) =>
      literals(text)
        .filter((l) =>
          /^\s*(?:SELECT|WITH|INSERT|UPDATE|DELETE|UPSERT|MERGE|TRUNCATE|DROP|CREATE|ALTER|GRANT|REVOKE|COPY|BEGIN|CALL|DO|LOCK|SET|VACUUM)\b/i.test(
            l,
          ),
        )
        .map((l) => ({ file, statement: l.trim().split('\n')[0] as string })),
    );
    assert.ok(
      statements.filter((s) => /^SELECT\b/i.test(s.statement)).length >= 10,
      'the statements are found',
    );
    assert.deepEqual(
      statements.filter((s) => !/^(?:SELECT|WITH)\b/i.test(s.statement)),
      [],
      'statements that are not reads',
    );
  });

  it('Kafka is only read: no producer, no admin change, no committed offset', () => {
    assert.deepEqual(
      where(
        /\.(?:producer|transaction|send|sendBatch|commitOffsets|setOffsets|resetOffsets|createTopics|deleteTopics|createPartitions|deleteGroups|deleteTopicRecords|alterConfigs|createAcls|deleteAcls)\s*\(/,
      ),
      [],
    );
    // The dead-letter reader is a consumer of its own group that never commits.
    const consumers = where(/\.consumer\s*\(/);
    const runs = where(/\.run\s*\(\s*\{/);
    assert.equal(consumers.length, 1, consumers.join('\n'));
    assert.equal(runs.length, 1, runs.join('\n'));
    const monitoring = server.find((s) => s.file === 'dashboard/monitoring/dead-letters.ts')?.text ?? '';
    assert.match(monitoring, /groupId: `logpipe-dashboard-\$\{randomUUID\(\)\}`/);
    assert.match(monitoring, /\.run\(\{\s*autoCommit: false,/);
  });

  it('Cassandra gets no batch and Temporal no command', () => {
    assert.deepEqual(where(/\.batch\s*\(/), []);
    assert.deepEqual(
      where(
        /\.(?:terminate|signal|signalWithStart|trigger|backfill|pause|unpause|executeUpdate|startUpdate)\s*\(|workflow\.(?:start|execute)\s*\(|schedule\.create\s*\(/,
      ),
      [],
    );
  });

  it("imports none of the pipeline's writers", () => {
    assert.deepEqual(
      where(
        /from '(?:\.\.\/)+(?:workers|activities|producers|workflows|stack|bench|cli)\/|from '(?:\.\.\/)+lib\/clients\/hdfs\.ts'|from '(?:\.\.\/)+temporal\/schedule\.ts'/,
      ),
      [],
    );
  });

  it('the page only GETs', () => {
    const calls = [...page.matchAll(/\bfetch\s*\(([^)]*)\)/g)].map((m) => m[1] ?? '');
    assert.ok(calls.length > 0);
    for (const args of calls) assert.doesNotMatch(args, /,|method/, `fetch(${args}) sends only GET`);
    assert.doesNotMatch(page, /XMLHttpRequest|sendBeacon|method:\s*['"](?!GET)/);
  });
});
