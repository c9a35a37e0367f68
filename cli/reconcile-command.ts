// `logpipe reconcile`: did every event of each hour reach every store, exactly once? Per event hour
// since --since (default: the last 24 hours), the events in HDFS, Cassandra, the raw tables and
// fact_events, the dead letters and quarantined lines, and each store's drift against HDFS (see
// activities/reconcile/). Exit code 1 when a closed hour drifts.
import type { Command } from 'commander';
import type { HourReport } from '../activities/reconcile/hour-counts.ts';
import { hasDrift } from '../activities/reconcile/hour-counts.ts';
import { reconcile } from '../activities/reconcile/reconcile.ts';
import { createCassandra } from '../lib/clients/cassandra.ts';
import { Hdfs } from '../lib/clients/hdfs.ts';
import { createKafka } from '../lib/clients/kafka.ts';
import { createPgPool } from '../lib/clients/postgres.ts';
import { loadConfig } from '../lib/config.ts';
import { textTable } from './format.ts';

function instant(text: string): Date {
  const d = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(d.getTime()))
    throw new Error(
      `--since expects a date or date-time such as 2026-12-02T05:00Z (got ${JSON.stringify(text)})`,
    );
  return d;
}

export function reconcileTable(hours: HourReport[]): string {
  if (!hours.length) return 'no events in any store in this window';
  const rows = hours.map((r) => [
    r.hour,
    r.closed ? 'closed' : 'open',
    ...[r.counts.hdfs, r.counts.cassandra, r.counts.postgres, r.counts.marts].map(String),
    String(r.counts.dead_letters),
    String(r.counts.quarantined),
    hasDrift(r)
      ? `cassandra ${r.drift.cassandra}, postgres ${r.drift.postgres}, marts ${r.drift.marts}`
      : '-',
  ]);
  return textTable(
    ['HOUR', 'STATE', 'HDFS', 'CASSANDRA', 'POSTGRES', 'MARTS', 'DEAD LETTERS', 'QUARANTINED', 'DRIFT'],
    rows,
  );
}

export function registerReconcile(program: Command): void {
  program
    .command('reconcile')
    .description(
      'per event hour, the events in HDFS, Cassandra, the raw tables and the marts, and the drift of each store against HDFS; exit code 1 when a closed hour drifts',
    )
    .option('--since <time>', 'from the hour of this instant (default: 24 hours ago)', instant)
    .option('--json', 'print {"hours": [...]} as JSON')
    .action(async (opts: { since?: Date; json?: boolean }) => {
      const config = loadConfig();
      const pool = createPgPool(config, 2);
      const cassandra = createCassandra(config);
      try {
        const hours = await reconcile(
          {
            config,
            pool,
            hdfs: new Hdfs(config),
            cassandra,
            kafka: createKafka(config, 'logpipe-reconcile'),
          },
          { since: opts.since },
        );
        process.stdout.write(
          opts.json ? `${JSON.stringify({ hours }, null, 2)}\n` : `${reconcileTable(hours)}\n`,
        );
        if (hours.some((h) => h.closed && hasDrift(h))) process.exitCode = 1;
      } finally {
        await Promise.allSettled([pool.end(), cassandra.shutdown()]);
      }
    });
}
