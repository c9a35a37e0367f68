// The startup options of logpipe's PostgreSQL sessions (pure): a PGOPTIONS the user set is kept,
// JIT is off, and what a pool adds (read-only) comes last, so it wins over the user's.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { sessionOptions } from '../../lib/clients/postgres.ts';

describe('PostgreSQL session options', () => {
  const saved = process.env.PGOPTIONS;
  afterEach(() => {
    if (saved === undefined) delete process.env.PGOPTIONS;
    else process.env.PGOPTIONS = saved;
  });

  it('turns JIT off, after the user’s PGOPTIONS and before what the caller adds', () => {
    delete process.env.PGOPTIONS;
    assert.equal(sessionOptions(), '-c jit=off');
    process.env.PGOPTIONS = '-c statement_timeout=5min';
    assert.equal(sessionOptions(), '-c statement_timeout=5min -c jit=off');
    assert.equal(
      sessionOptions('-c default_transaction_read_only=on'),
      '-c statement_timeout=5min -c jit=off -c default_transaction_read_only=on',
    );
  });
});
