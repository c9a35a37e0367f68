import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorField, errorMessage, rootError } from '../../lib/errors.ts';
import { scheduleLink, workflowLink } from '../../temporal/ui-links.ts';

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

  it('read a string property of whatever was thrown', () => {
    assert.equal(errorField(Object.assign(new Error('x'), { code: '23505' }), 'code'), '23505');
    assert.equal(errorField({ code: 23505 }, 'code'), undefined, 'a number is not a code');
    assert.equal(errorField('text', 'code'), undefined);
    assert.equal(errorField(null, 'name'), undefined);
    assert.equal(errorField(new TypeError('t'), 'name'), 'TypeError');
  });
});

describe('Temporal UI links', () => {
  const config = { TEMPORAL_UI_URL: 'http://127.0.0.1:8233', TEMPORAL_NAMESPACE: 'default' };
  it('point at a workflow, a run history and a schedule, with ids escaped', () => {
    assert.equal(
      workflowLink(config, 'a/b c'),
      'http://127.0.0.1:8233/namespaces/default/workflows/a%2Fb%20c',
    );
    assert.equal(
      workflowLink(config, 'wf', 'run-1'),
      'http://127.0.0.1:8233/namespaces/default/workflows/wf/run-1/history',
    );
    assert.equal(
      scheduleLink(config, 'hdfs-to-warehouse'),
      'http://127.0.0.1:8233/namespaces/default/schedules/hdfs-to-warehouse',
    );
  });
});
