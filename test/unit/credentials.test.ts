// No credentials in the repository: every file git knows about (tracked, and new files that are not
// ignored, so a file is checked before it is committed) is scanned for credential-looking literals.
// The only ones allowed are the local stack's documented default password and two test values, each
// listed in ALLOWED with the reason. Anything else is a finding: read it from the environment
// (lib/config.ts) instead.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../../lib/config.ts';

interface Finding {
  file: string;
  line: number;
  rule: string;
  value: string;
}

/** What may stay, by file and literal value, with the reason. Keep it explicit and small. */
const ALLOWED: { file: string; value: string; reason: string }[] = [
  {
    file: 'lib/config.ts',
    value: 'logpipe',
    reason:
      "PGPASSWORD's default: the password initdb gives the local stack's own PostgreSQL (README, Security)",
  },
  {
    file: 'docker-compose.yaml',
    value: 'logpipe',
    reason: 'the same default, as the fallback of PGPASSWORD from the environment in every service',
  },
  {
    file: 'dbt/profiles.yml',
    value: 'logpipe',
    reason: "the fallback of env_var('PGPASSWORD'): dbt reads PGPASSWORD, with the local stack's default",
  },
  {
    file: 'README.md',
    value: 'logpipe',
    reason: 'the Security section names the default and where it is set',
  },
  {
    file: 'test/unit/cli-config.test.ts',
    value: "it's secret $HOME",
    reason: 'a test value with shell metacharacters, which `logpipe env` must quote',
  },
  {
    file: 'test/integration/dbt.test.ts',
    value: 'wrong',
    reason: 'a test value: a deliberately wrong password, to check the error dbt gives',
  },
];

/** Names of settings and fields that hold a credential. */
const CREDENTIAL_NAME =
  /([A-Za-z0-9_.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?)[A-Za-z0-9_.-]*)['"`]?\s*(?:=>|:=|=|:)(?!=)\s*/gi;

/** Credentials written in a URL: a password between the user name and the @ before the host. */
const URL_USERINFO = /\b[a-z][a-z0-9+.-]*:\/\/([^\s:/?#@'"`<>]+):([^\s/?#@'"`<>]+)@/gi;

/** Secrets recognisable by their form alone. */
const TOKEN_FORMATS: [string, RegExp][] = [
  ['private key block', /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/],
  ['AWS access key id', /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/],
  ['GitHub token', /\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})\b/],
  ['npm token', /\bnpm_[A-Za-z0-9]{36}\b/],
  ['Slack token', /\bxox[abposr]-[A-Za-z0-9-]{10,}/],
  ['Slack webhook', /hooks\.slack\.com\/services\/T[A-Z0-9]+\/B[A-Z0-9]+\/[A-Za-z0-9]{8,}/],
  ['Google API key', /\bAIza[0-9A-Za-z_-]{35}\b/],
  ['Stripe key', /\b[sr]k_live_[0-9A-Za-z]{16,}\b/],
  ['JSON web token', /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/],
];

const CODE = new Set(['.ts', '.tsx', '.js', '.mjs', '.cjs']);

/**
 * The literal a value stands for, or undefined when it is a reference: `${VAR}`, `$VAR`, an
 * expression. `${VAR:-default}` and dbt's `env_var('VAR', 'default')` stand for their default.
 */
export function literalOf(raw: string): string | undefined {
  let v = raw.trim();
  const shellDefault = /^\$\{\w+:?-([^}]*)\}$/.exec(v);
  if (shellDefault) v = shellDefault[1] ?? '';
  const dbtDefault = /^\{\{\s*env_var\(\s*['"]\w+['"]\s*(?:,\s*['"]([^'"]*)['"])?\s*\)[^}]*\}\}$/.exec(v);
  if (dbtDefault) v = dbtDefault[1] ?? '';
  if (!v || v.startsWith('$') || /^\{\{.*\}\}$/.test(v)) return undefined;
  // Numbers, booleans, nulls, placeholders (<your password>, …) are not credentials.
  if (/^(?:-?\d+(?:\.\d+)?|true|false|null|none|undefined|~)$/i.test(v)) return undefined;
  if (/^<[^>]*>$/.test(v) || /^(?:\.\.\.|…|\*+)$/.test(v)) return undefined;
  return v;
}

/** Every string literal in a piece of code (template literals only without interpolation). */
function codeLiterals(code: string): string[] {
  const out: string[] = [];
  for (const m of code.matchAll(/'((?:[^'\\\n]|\\.)*)'|"((?:[^"\\\n]|\\.)*)"|`((?:[^`\\$]|\\.)*)`/g))
    out.push((m[1] ?? m[2] ?? m[3] ?? '').replace(/\\(.)/g, '$1'));
  return out;
}

/** The value after `name =` in configuration, shell, YAML, JSON or prose: one token or a quoted string. */
function configValue(rest: string): { value: string; length: number } {
  const quoted = /^(['"`])((?:(?!\1)[^\\]|\\.)*)\1/.exec(rest);
  if (quoted) return { value: quoted[2] ?? '', length: quoted[0].length };
  const token = /^(?:\$\{[^}]*\}|\{\{.*?\}\}|<[^>]*>|[^\s,;)}\]|]*)/.exec(rest)?.[0] ?? '';
  return { value: token, length: token.length };
}

export function scan(file: string, text: string): Finding[] {
  const findings: Finding[] = [];
  const code = CODE.has(extname(file));
  // The lockfile's keys are package names (js-tokens, …) and its values versions and hashes: only
  // credentials in URLs (a private registry's `resolved`) and recognisable tokens count there.
  const assignments = file !== 'package-lock.json';
  text.split('\n').forEach((line, i) => {
    const seen = new Set<string>();
    const add = (rule: string, value: string | undefined) => {
      if (value === undefined || seen.has(value)) return; // once per line
      seen.add(value);
      findings.push({ file, line: i + 1, rule, value });
    };
    for (const [name, re] of TOKEN_FORMATS) {
      const m = re.exec(line);
      if (m) add(name, m[0]);
    }
    for (const m of line.matchAll(URL_USERINFO)) add('password in a URL', literalOf(m[2] ?? ''));
    if (!assignments) return;
    // A shell default anywhere outside code: `${PGPASSWORD:-value}` stands for value.
    if (!code)
      for (const m of line.matchAll(/\$\{(\w+):?-([^}]*)\}/g))
        if (new RegExp(CREDENTIAL_NAME.source, 'i').test(`${m[1]}=`))
          add(`default of ${m[1]}`, literalOf(m[2] ?? ''));
    // One value per name; a name inside a value (`${PGPASSWORD:-…}`) is part of that value.
    for (let at = 0; ; ) {
      CREDENTIAL_NAME.lastIndex = at;
      const m = CREDENTIAL_NAME.exec(line);
      if (!m) break;
      if (!code && line.slice(0, m.index).endsWith('${')) {
        at = m.index + m[0].length;
        continue;
      }
      const rest = line.slice(m.index + m[0].length);
      const rule = `value of ${m[1]}`;
      if (code) {
        // An expression: any string literal in it (a default, a fallback after ?? or ||) counts.
        for (const lit of codeLiterals(rest)) add(rule, literalOf(lit));
        break;
      }
      const value = configValue(rest);
      add(rule, literalOf(value.value));
      at = m.index + m[0].length + Math.max(value.length, 1);
    }
  });
  return findings;
}

function repositoryFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: repoRoot,
    maxBuffer: 64 * 1024 * 1024,
  });
  return [...new Set(out.toString('utf8').split('\0').filter(Boolean))].sort();
}

function readText(file: string): string | undefined {
  let buf: Buffer;
  try {
    buf = readFileSync(join(repoRoot, file));
  } catch {
    return undefined; // deleted in the working tree, or a directory (submodule)
  }
  return buf.subarray(0, 8000).includes(0) ? undefined : buf.toString('utf8'); // binary
}

const allowed = (f: Finding) => ALLOWED.some((a) => a.file === f.file && a.value === f.value);

describe('credentials in the repository', () => {
  it('the scanner finds each kind of credential, and leaves references and defaults-by-variable alone', () => {
    // Built from pieces so that this file holds none of them literally.
    const pw = ['pass', 'word'].join('');
    const PW = pw.toUpperCase();
    const sec = ['sec', 'ret'].join('');
    const key = ['API', '_KEY'].join('');
    const tok = ['to', 'ken'].join('');
    const found = (file: string, text: string) => scan(file, text).map((f) => f.value);
    assert.deepEqual(found('a.ts', `const c = { ${pw}: 'hunter2' };`), ['hunter2']);
    assert.deepEqual(found('a.ts', `PG${PW}: z.string().default("s3cr3t"),`), ['s3cr3t']);
    assert.deepEqual(found('a.ts', `client_${sec} = process.env.X ?? \`abc\`;`), ['abc']);
    assert.deepEqual(found('a.yml', `db_${pw}: hunter2`), ['hunter2']);
    assert.deepEqual(found('a.env', `${key}="k-123"`), ['k-123']);
    assert.deepEqual(found('a.sh', `user=app ${pw}=one ${tok}=two`), ['one', 'two']);
    assert.deepEqual(found('a.yaml', `PG${PW}: \${PG${PW}:-fallback}`), ['fallback']);
    assert.deepEqual(found('a.md', `the fallback (\`\${PG${PW}:-fallback}\`) of`), ['fallback']);
    assert.deepEqual(found('a.yml', `${pw}: "{{ env_var('PGPW', 'dflt') }}"`), ['dflt']);
    assert.deepEqual(found('a.md', ['postgres://app', ':hunter2', '@db:5432/x'].join('')), ['hunter2']);
    assert.equal(found('a.ts', `const k = '-----BEGIN RSA ${'PRIVATE'} KEY-----';`).length, 1);
    assert.deepEqual(found('a.ts', `const id = '${'AKIA'}ABCDEFGHIJKLMNOP';`), [`${'AKIA'}ABCDEFGHIJKLMNOP`]);
    // References, expressions, numbers and placeholders are not literals.
    assert.deepEqual(found('a.ts', `${pw}: config.PG${PW},`), []);
    assert.deepEqual(found('a.ts', `if (${tok} === 'x') return;`), []);
    assert.deepEqual(found('a.yml', `${pw}: "{{ env_var('PGPW') }}"`), []);
    assert.deepEqual(found('a.sh', `PG${PW}="$PGPW" psql`), []);
    assert.deepEqual(found('a.yml', `num_${tok}s: 16`), []);
    assert.deepEqual(found('a.md', `${pw}: <your ${pw}>`), []);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the text of a template literal, on purpose
    assert.deepEqual(found('a.ts', ['const u = `postgres://', '${user}:${pass}', '@db`;'].join('')), []);
    assert.deepEqual(found('package-lock.json', `"node_modules/js-${tok}s": { "version": "4.0.0" }`), []);
  });

  it('every file holds only the allowed literals, and every allowed literal is still there', () => {
    const files = repositoryFiles();
    assert.ok(files.includes('lib/config.ts'), 'git lists the repository');
    const findings = files.flatMap((file) => {
      const text = readText(file);
      return text === undefined ? [] : scan(file, text);
    });
    const unexpected = findings.filter((f) => !allowed(f));
    assert.deepEqual(
      unexpected.map((f) => `${f.file}:${f.line}: ${f.rule}: ${JSON.stringify(f.value)}`),
      [],
      'credential-looking literals: read them from the environment (lib/config.ts), or, for a documented local default, add them to ALLOWED with the reason',
    );
    // An entry that matches nothing any more is removed, so the list stays the list of what is there.
    const stale = ALLOWED.filter((a) => !findings.some((f) => f.file === a.file && f.value === a.value));
    assert.deepEqual(stale, [], 'ALLOWED entries that match nothing');
  });
});
