// No Docker engine runs here, so docker-compose.yaml is checked statically: it parses, every
// service has a health check, and its ports and variables agree with the config module.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { configSchema, loadConfig, repoRoot } from '../../lib/config.ts';
import { DBT_CORE_VERSION, DBT_POSTGRES_VERSION } from '../../lib/dbt.ts';

interface Service {
  image?: string;
  build?: unknown;
  ports?: string[];
  environment?: Record<string, string | number>;
  healthcheck?: { test?: string[] };
}

const compose = parse(readFileSync(join(repoRoot, 'docker-compose.yaml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  'x-logpipe-env': Record<string, string>;
};

describe('docker-compose.yaml', () => {
  it('parses and names the six servers', () => {
    for (const name of [
      'kafka',
      'hdfs-namenode',
      'hdfs-datanode',
      'cassandra',
      'postgres',
      'temporal',
      'temporal-ui',
    ]) {
      assert.ok(compose.services[name], `service ${name}`);
    }
  });

  it("runs logpipe's own processes, built from the Dockerfile, with the commands of ./logpipe up", () => {
    const commands: Record<string, string[]> = {
      schedule: ['schedule', 'create'],
      'streaming-worker': ['worker', 'stream'],
      'batch-worker': ['worker', 'batch'],
      dashboard: ['dashboard'],
    };
    for (const [name, command] of Object.entries(commands)) {
      const svc = compose.services[name] as Service & { command?: string[] };
      assert.ok(svc?.build, `${name} is built from the Dockerfile`);
      assert.deepEqual(svc.command, command, name);
    }
    // The dashboard reads the worker's metrics across the compose network.
    const dash = compose.services.dashboard?.environment ?? {};
    assert.equal(dash.DASHBOARD_STREAM_METRICS_URLS, 'http://streaming-worker:9464');
    assert.equal(compose.services['streaming-worker']?.environment?.STREAM_METRICS_HOST, '0.0.0.0');
  });

  it('gives every service a health check', () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      assert.ok(svc.healthcheck?.test?.length, `${name} has a healthcheck`);
    }
  });

  it('publishes the same ports as the local stack and config defaults, on 127.0.0.1 only', () => {
    const defaults = loadConfig({});
    const published = new Map<string, string[]>();
    for (const [name, svc] of Object.entries(compose.services)) {
      for (const p of svc.ports ?? []) {
        assert.match(p, /^127\.0\.0\.1:\d+:\d+$/, `${name} publishes ${p} on loopback`);
        published.set(name, [...(published.get(name) ?? []), p.split(':')[1] ?? '']);
      }
    }
    const port = (hostPort: string) => hostPort.split(':').at(-1);
    assert.ok(published.get('kafka')?.includes(port(defaults.KAFKA_BROKERS[0] ?? '') ?? ''));
    assert.ok(published.get('hdfs-namenode')?.includes(new URL(defaults.WEBHDFS_URL).port));
    assert.ok(published.get('hdfs-datanode')?.includes('9864'));
    assert.ok(published.get('cassandra')?.includes(String(defaults.CASSANDRA_PORT)));
    assert.ok(published.get('postgres')?.includes(String(defaults.PGPORT)));
    assert.ok(published.get('temporal')?.includes(port(defaults.TEMPORAL_ADDRESS) ?? ''));
    assert.ok(published.get('temporal-ui')?.includes(new URL(defaults.TEMPORAL_UI_URL).port));
  });

  it("uses only variables the config module knows for logpipe's processes, and they parse", () => {
    const env = compose['x-logpipe-env'];
    const known = new Set(Object.keys(configSchema.shape));
    for (const key of Object.keys(env)) assert.ok(known.has(key), `${key} is read by lib/config.ts`);
    const resolved = Object.fromEntries(
      Object.entries(env).map(([k, v]) => [k, String(v).replace(/\$\{(\w+):-([^}]*)\}/g, '$2')]),
    );
    const c = loadConfig(resolved);
    assert.deepEqual(c.KAFKA_BROKERS, ['kafka:19092']);
    assert.equal(c.PGHOST, 'postgres');
  });

  it('builds its own processes from the Dockerfile, with the same variables', () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      if (!svc.build) continue;
      for (const key of Object.keys(svc.environment ?? {})) {
        assert.ok(key in configSchema.shape, `${name}: ${key} is read by lib/config.ts`);
      }
    }
    const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
    assert.match(dockerfile, /^FROM node:20/m);
    assert.ok(
      dockerfile.includes(`dbt-core==${DBT_CORE_VERSION}`) &&
        dockerfile.includes(`dbt-postgres==${DBT_POSTGRES_VERSION}`),
    );
  });
});
