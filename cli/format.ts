// Human-readable tables: `status`, `reconcile`.
import type { ServiceStatus } from '../stack/stack.ts';

export function statusTable(services: ServiceStatus[]): string {
  const rows = services.map((s) => [
    s.name,
    s.state,
    s.pid === null ? '-' : String(s.pid),
    s.port === null ? '-' : String(s.port),
    s.url ?? '-',
    s.log,
  ]);
  const out = [textTable(['SERVICE', 'STATE', 'PID', 'PORT', 'URL', 'LOG'], rows)];
  const down = services.filter((s) => s.state === 'down' && !s.optional);
  if (down.length) {
    out.push(
      '',
      `down: ${down.map((s) => `${s.name} (${s.reason ?? 'not running'}; log: ${s.log})`).join(', ')}`,
    );
  }
  return out.join('\n');
}

/** Columns padded to their widest cell, two spaces apart. */
export function textTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
