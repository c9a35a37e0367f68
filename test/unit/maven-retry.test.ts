// Retrying a Maven resolution on a cold install: a dropped connection is tried again, a refusal by
// the registry (HTTP 403) is final. The outputs are written by hand in the form Maven 3.8 prints.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isRefusal, withRetries } from '../../stack/maven.ts';

const REFUSED =
  '[ERROR] Failed to execute goal on project cassandra: Could not resolve dependencies for project logpipe.stack:cassandra:pom:1: ' +
  'Could not transfer artifact org.apache.cassandra:cassandra-all:jar:5.0.6 from/to central (https://repo.maven.apache.org/maven2): ' +
  'authorization failed for https://repo.maven.apache.org/maven2/org/apache/cassandra/cassandra-all/5.0.6/cassandra-all-5.0.6.jar, ' +
  'status code: 403, reason phrase: Forbidden (403) -> [Help 1]';
const RESET =
  '[ERROR] Failed to execute goal on project cassandra: Could not resolve dependencies for project logpipe.stack:cassandra:pom:1: ' +
  'Could not transfer artifact com.github.jbellis:jamm:jar:0.4.0 from/to central (https://repo.maven.apache.org/maven2): ' +
  'Connection reset -> [Help 1]';
const TRUNCATED =
  '[ERROR] Failed to execute goal org.apache.maven.plugins:maven-dependency-plugin:2.8:copy-dependencies (default-cli): ' +
  'Error copying artifact from /c/m2/io/netty/netty-all/4.1.100.Final/netty-all-4.1.100.Final.jar: invalid LOC header (bad signature)';

const noWait = { waitMs: () => 0, sleep: async () => {} };

describe('Maven resolution retries', () => {
  it('knows a 403 from the registry in either form Maven prints it', () => {
    assert.equal(isRefusal(REFUSED), true);
    assert.equal(isRefusal('Return code is: 403, ReasonPhrase: Forbidden.'), true);
    assert.equal(isRefusal(RESET), false);
    assert.equal(isRefusal(TRUNCATED), false);
    assert.equal(isRefusal('Downloaded from central: .../guava-32.0.1-jre.jar (3 MB at 4032 kB/s)'), false);
  });

  it('tries a dropped connection again and stops at the first success', async () => {
    const seen: number[] = [];
    await withRetries(
      async (n) => {
        seen.push(n);
        if (n < 2) throw new Error('mvn exited with an error');
      },
      () => RESET,
      { attempts: 3, ...noWait },
    );
    assert.deepEqual(seen, [1, 2]);
  });

  it('gives up after the last attempt with its error', async () => {
    let calls = 0;
    await assert.rejects(
      withRetries(
        async (n) => {
          calls++;
          throw new Error(`attempt ${n} failed`);
        },
        () => TRUNCATED,
        { attempts: 3, ...noWait },
      ),
      /attempt 3 failed/,
    );
    assert.equal(calls, 3);
  });

  it('does not retry a refusal', async () => {
    let calls = 0;
    await assert.rejects(
      withRetries(
        async () => {
          calls++;
          throw new Error('refused');
        },
        () => REFUSED,
        { attempts: 3, ...noWait },
      ),
      /refused/,
    );
    assert.equal(calls, 1);
  });

  it('waits between attempts as told', async () => {
    const waits: number[] = [];
    await assert.rejects(
      withRetries(
        async () => {
          throw new Error('down');
        },
        () => RESET,
        { attempts: 3, waitMs: (n) => 5_000 * n, sleep: async (ms) => void waits.push(ms) },
      ),
    );
    assert.deepEqual(waits, [5_000, 10_000]);
  });
});
