// The Power BI data source file (.pbids) for the warehouse: opening it in Power BI Desktop starts
// "Get data" on logpipe's PostgreSQL database, in Import mode (the marts are small and aggregated).
import type { Config } from './config.ts';

export function pbidsFor(config: Pick<Config, 'PGHOST' | 'PGPORT' | 'PGDATABASE'>): string {
  const pbids = {
    version: '0.1',
    connections: [
      {
        details: {
          protocol: 'postgresql',
          address: { server: `${config.PGHOST}:${config.PGPORT}`, database: config.PGDATABASE },
        },
        options: {},
        mode: 'Import',
      },
    ],
  };
  return `${JSON.stringify(pbids, null, 2)}\n`;
}
