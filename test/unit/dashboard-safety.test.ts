// The dashboard's CSV export against spreadsheet formula injection, and its Host header check
// against DNS rebinding. Cases from OWASP's CSV injection page and RFC 7230's Host syntax.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { csvCell, toCsv } from '../../dashboard/csv.ts';
import { allowedHosts, hostAllowed, hostOf } from '../../dashboard/host-check.ts';

describe('CSV export', () => {
  it('defuses cells a spreadsheet would run as a formula', () => {
    assert.equal(csvCell('=HYPERLINK("http://x","y")'), `"'=HYPERLINK(""http://x"",""y"")"`);
    assert.equal(csvCell('+1+1'), "'+1+1");
    assert.equal(csvCell('-2+3'), "'-2+3");
    assert.equal(csvCell('@SUM(A1)'), "'@SUM(A1)");
    assert.equal(csvCell('\tcmd'), "'\tcmd");
    assert.equal(csvCell('\rcmd'), `"'\rcmd"`);
  });
  it('keeps numbers, plain text and nulls as they are', () => {
    assert.equal(csvCell(-5.5), '-5.5');
    assert.equal(csvCell('user_1'), 'user_1');
    assert.equal(csvCell(null), '');
    assert.equal(csvCell('a,b'), '"a,b"');
    assert.equal(toCsv(['a', 'b'], [{ a: 1, b: '=x' }]), "a,b\n1,'=x\n");
  });
});

describe('Host header check', () => {
  const allowed = allowedHosts('127.0.0.1', ['dash.example.com']);
  it('takes the host part of a Host header', () => {
    assert.equal(hostOf('127.0.0.1:8501'), '127.0.0.1');
    assert.equal(hostOf('[::1]:8501'), '[::1]');
    assert.equal(hostOf('LOCALHOST'), 'localhost');
  });
  it('allows the loopback names, the bound address and configured names', () => {
    for (const h of ['127.0.0.1:8501', 'localhost:8501', '[::1]:8501', 'localhost', 'dash.example.com'])
      assert.ok(hostAllowed(h, allowed), h);
  });
  it('refuses any other name, and a request without Host', () => {
    for (const h of ['attacker.example', '127.0.0.1.attacker.example:8501', 'localhost.evil:8501', ''])
      assert.ok(!hostAllowed(h, allowed), h);
    assert.ok(!hostAllowed(undefined, allowed));
  });
});
