// KRaft storage formatting: the cluster id the stack makes, and how it reaches kafka-storage. A fresh
// clone's `./logpipe up` once failed on an id that began with '-' ("argument --cluster-id/-t:
// expected one argument"); the real tool accepts the joined form (checked by the stack's start).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newClusterId, storageFormatArgs } from '../../stack/kafka.ts';

describe('Kafka storage format', () => {
  it('makes cluster ids of 22 base64url characters (a UUID), different each time', () => {
    const ids = new Set(Array.from({ length: 200 }, newClusterId));
    assert.equal(ids.size, 200);
    for (const id of ids) assert.match(id, /^[A-Za-z0-9_-]{22}$/);
  });

  it("joins the id to its option, so an id that starts with '-' is not read as an option", () => {
    const args = storageFormatArgs('-h48YlbGR9GPF8upp2okxg', '/d/server.properties');
    assert.deepEqual(args, [
      'format',
      '--cluster-id=-h48YlbGR9GPF8upp2okxg',
      '-c',
      '/d/server.properties',
      '--ignore-formatted',
    ]);
  });
});
