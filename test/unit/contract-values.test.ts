// The contract's closed sets have one owner (lib/events/enums.ts): the zod schema validates with
// them, and dbt's accepted_values read them through contract_values() from the LOGPIPE_CONTRACT the
// runner passes. Here: no dbt model writes a contract set of its own, and what dbt is given is the
// contract's sets.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { loadConfig, repoRoot } from '../../lib/config.ts';
import { dbtEnv } from '../../lib/dbt.ts';
import { CONTRACT_VALUES, DEVICE_TYPES, EVENT_TYPES, LEVELS } from '../../lib/events/enums.ts';
import { eventSchema } from '../../lib/events/schema.ts';

const ymlFiles = (dir: string): string[] =>
  readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? ymlFiles(p) : e.endsWith('.yml') ? [p] : [];
  });

interface AcceptedValues {
  file: string;
  model: string;
  column: string;
  values: unknown;
}

function acceptedValuesTests(): AcceptedValues[] {
  const out: AcceptedValues[] = [];
  for (const file of ymlFiles(join(repoRoot, 'dbt/models'))) {
    const doc = parse(readFileSync(file, 'utf8')) as {
      models?: { name: string; columns?: { name: string; data_tests?: unknown[] }[] }[];
    };
    for (const model of doc.models ?? []) {
      for (const column of model.columns ?? []) {
        for (const t of column.data_tests ?? []) {
          const av = (t as { accepted_values?: { arguments?: { values?: unknown } } }).accepted_values;
          if (av) out.push({ file, model: model.name, column: column.name, values: av.arguments?.values });
        }
      }
    }
  }
  return out;
}

// The first event of the hand-written fixture of the original system's logs.
const base = JSON.parse(
  readFileSync(join(repoRoot, 'test/fixtures/golden/original-events.ndjson'), 'utf8').split(
    '\n',
  )[0] as string,
) as Record<string, unknown>;

describe('the contract closed sets, one owner', () => {
  it('every accepted_values test on a contract column reads the contract', () => {
    const tests = acceptedValuesTests();
    const sets: Record<string, string> = {
      level: 'levels',
      device_type: 'device_types',
      event_type: 'event_types',
    };
    const onContract = tests.filter((t) => t.column in sets);
    assert.ok(
      onContract.length >= 11,
      `accepted_values on level/device_type/event_type: ${onContract.length}`,
    );
    for (const t of onContract) {
      if (t.column === 'event_type' && Array.isArray(t.values) && t.values.length === 1) {
        // a per-type staging model accepts its own type only, which must be one of the contract's
        assert.ok((EVENT_TYPES as readonly unknown[]).includes(t.values[0]), `${t.model}.${t.column}`);
        continue;
      }
      assert.equal(
        t.values,
        `{{ contract_values('${sets[t.column]}') }}`,
        `${t.model}.${t.column} in ${t.file}`,
      );
    }
  });

  it('gives dbt exactly the contract sets', () => {
    const config = loadConfig({});
    const env = dbtEnv(config, { targetPath: '/t', logPath: '/l' });
    assert.deepEqual(JSON.parse(env.LOGPIPE_CONTRACT as string), CONTRACT_VALUES);
  });

  it('accepts every level and device type that dbt accepts, WARN included', () => {
    for (const level of LEVELS) {
      for (const device_type of DEVICE_TYPES) {
        const r = eventSchema.safeParse({ ...base, level, device_type });
        assert.ok(r.success, `${level}/${device_type}: ${r.success ? '' : r.error.message}`);
      }
    }
    assert.ok(!eventSchema.safeParse({ ...base, level: 'WARNING' }).success);
  });
});
