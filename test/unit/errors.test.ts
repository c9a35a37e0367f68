import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorMessage, rootError } from '../../lib/errors.ts';

describe('error helpers', () => {
  it('say what was thrown, whatever it was', () => {
    assert.equal(errorMessage(new Error('boom')), 'boom');
    assert.equal(errorMessage('plain text'), 'plain text');
    assert.equal(errorMessage({ message: 'from a driver', code: '57P01' }), 'from a driver');
    assert.equal(errorMessage(undefined), 'undefined');
    assert.equal(errorMessage(42), '42');
    assert.equal(errorMessage({ message: 7 }), '[object Object]');
  });

  it('find the innermost cause', () => {
    const inner = new Error('root');
    const outer = new Error('outer', { cause: new Error('middle', { cause: inner }) });
    assert.equal(rootError(outer), inner);
    assert.equal(rootError(inner), inner);
    assert.equal(rootError('x'), 'x');
    const loop: { cause?: unknown } = {};
    loop.cause = loop;
    assert.equal(rootError(loop), loop, 'a cycle ends');
  });
});
