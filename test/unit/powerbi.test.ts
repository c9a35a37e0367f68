// The committed .pbids opens the default local warehouse, and `logpipe powerbi` follows the config.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig, repoRoot } from '../../lib/config.ts';
import { pbidsFor } from '../../lib/powerbi.ts';

describe('Power BI data source file', () => {
  it('the committed file points at the default warehouse, in Import mode', () => {
    const text = readFileSync(join(repoRoot, 'powerbi', 'logpipe-warehouse.pbids'), 'utf8');
    assert.equal(text, pbidsFor(loadConfig({})));
    const parsed = JSON.parse(text) as {
      version: string;
      connections: {
        details: { protocol: string; address: { server: string; database: string } };
        mode: string;
      }[];
    };
    assert.equal(parsed.version, '0.1');
    assert.equal(parsed.connections.length, 1);
    assert.deepEqual(parsed.connections[0]?.details, {
      protocol: 'postgresql',
      address: { server: '127.0.0.1:5432', database: 'logpipe' },
    });
    assert.equal(parsed.connections[0]?.mode, 'Import');
  });

  it('follows PGHOST, PGPORT and PGDATABASE', () => {
    const parsed = JSON.parse(
      pbidsFor(loadConfig({ PGHOST: 'db.internal', PGPORT: '6543', PGDATABASE: 'dw' })),
    );
    assert.deepEqual(parsed.connections[0].details.address, { server: 'db.internal:6543', database: 'dw' });
  });
});
