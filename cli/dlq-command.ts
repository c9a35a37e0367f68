// `logpipe dlq replay`: dead letters back to the events topic (producers/dlq-replay.ts).
import type { Command } from 'commander';
import { loadConfig } from '../lib/config.ts';
import { DEAD_LETTER_REASONS } from '../lib/events/parse.ts';
import { type ReplaySummary, replayDeadLetters } from '../producers/dlq-replay.ts';

function time(flag: string, text: string): Date {
  const d = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(d.getTime()))
    throw new Error(
      `${flag} expects a date or date-time such as 2026-01-02T03:00:00Z (got ${JSON.stringify(text)})`,
    );
  return d;
}

function wholeNumber(flag: string, text: string): number {
  if (!/^\d+$/.test(text)) throw new Error(`${flag} expects a whole number (got ${JSON.stringify(text)})`);
  return Number(text);
}

export function summaryText(s: ReplaySummary): string {
  const invalid = Object.entries(s.stillInvalid)
    .map(([reason, n]) => `${reason} ${n}`)
    .join(', ');
  return [
    `${s.dryRun ? '[dry run] ' : ''}read ${s.read} from ${s.dlqTopic}, ${s.dryRun ? 'would replay' : 'replayed'} ${s.replayed}, skipped ${s.skipped} (outside the filter)`,
    `still invalid: ${invalid || 'none'}`,
    `remaining after this position: ${s.remaining} (position: consumer group ${s.positionGroup}${s.dryRun ? ', unchanged' : ''})`,
  ].join('\n');
}

export function registerDlq(program: Command): void {
  const dlq = program.command('dlq').description('the dead-letter topic (LogEvents.dlq)');
  dlq
    .command('replay')
    .description(
      'publish dead-lettered messages again, as they came, to the events topic; never deletes from the DLQ, and a second call resumes where the first stopped',
    )
    .option('--reason <reason>', `only this reason (${DEAD_LETTER_REASONS.join(', ')})`)
    .option('--since <time>', 'only messages dead-lettered at or after this time', (v) => time('--since', v))
    .option('--until <time>', 'only messages dead-lettered before this time', (v) => time('--until', v))
    .option('--limit <n>', 'replay at most this many', (v) => wholeNumber('--limit', v))
    .option('--dry-run', 'count what would be replayed; publish nothing, keep the position')
    .option('--json', 'print the summary as JSON')
    .action(
      async (opts: {
        reason?: string;
        since?: Date;
        until?: Date;
        limit?: number;
        dryRun?: boolean;
        json?: boolean;
      }) => {
        const summary = await replayDeadLetters(loadConfig(), opts);
        process.stdout.write(
          opts.json ? `${JSON.stringify(summary, null, 2)}\n` : `${summaryText(summary)}\n`,
        );
      },
    );
}
