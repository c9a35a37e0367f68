// The monitoring's own connections, opened on first use and shared by every panel: one Kafka admin
// (dropped when it disconnects, so the next read reconnects) and one Temporal client.

import type { Client as TemporalClient } from '@temporalio/client';
import type { Admin, Kafka } from 'kafkajs';
import { connectTemporal } from '../../lib/clients/temporal.ts';
import type { Config } from '../../lib/config.ts';
import { workflowLink } from '../../temporal/ui-links.ts';

export class MonitoringConnections {
  private admin?: Admin;
  private adminConnecting?: Promise<Admin>;
  private temporal?: Promise<TemporalClient>;

  constructor(
    private readonly config: Config,
    readonly kafka: Kafka,
  ) {}

  async kafkaAdmin(): Promise<Admin> {
    if (this.admin) return this.admin;
    this.adminConnecting ??= (async () => {
      const admin = this.kafka.admin({ retry: { retries: 1, initialRetryTime: 200, maxRetryTime: 1000 } });
      try {
        await admin.connect();
      } catch (err) {
        this.adminConnecting = undefined;
        throw err;
      }
      admin.on(admin.events.DISCONNECT, () => {
        if (this.admin === admin) this.admin = undefined;
        this.adminConnecting = undefined;
      });
      this.admin = admin;
      return admin;
    })();
    return this.adminConnecting;
  }

  async resetAdmin(): Promise<void> {
    const a = this.admin;
    this.admin = undefined;
    this.adminConnecting = undefined;
    await a?.disconnect().catch(() => {});
  }

  temporalClient(): Promise<TemporalClient> {
    this.temporal ??= connectTemporal(this.config).catch((err) => {
      this.temporal = undefined;
      throw err;
    });
    return this.temporal;
  }

  /** Temporal Web UI link to one run. */
  runUrl(workflowId: string, runId: string): string {
    return workflowLink(this.config, workflowId, runId);
  }

  async close(): Promise<void> {
    await this.resetAdmin();
    const t = await this.temporal?.catch(() => undefined);
    await t?.connection.close().catch(() => {});
  }
}
