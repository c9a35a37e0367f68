// Consumer lag of the streaming group, from Kafka's own offsets (not the workers' metrics, which a
// stopped worker no longer serves).
import type { Config } from '../../lib/config.ts';
import type { LagAnswer } from '../api-types.ts';
import type { MonitoringConnections } from './connections.ts';

/** Per partition: the topic's high watermark, the group's committed offset and the difference. */
export async function consumerLag(config: Config, connections: MonitoringConnections): Promise<LagAnswer> {
  const admin = await connections.kafkaAdmin();
  const [ends, committed] = await Promise.all([
    admin.fetchTopicOffsets(config.KAFKA_TOPIC),
    admin.fetchOffsets({ groupId: config.STREAM_GROUP_ID, topics: [config.KAFKA_TOPIC] }),
  ]);
  const done = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
  const partitions = ends
    .map((e) => {
      const high = BigInt(e.high);
      const low = BigInt(e.low);
      const at = done.get(e.partition) ?? -1n;
      // -1: the group never committed on this partition: everything retained is lag.
      const from = at < 0n ? low : at;
      return {
        partition: e.partition,
        high: Number(high),
        committed: at < 0n ? null : Number(at),
        lag: Number(high > from ? high - from : 0n),
      };
    })
    .sort((a, b) => a.partition - b.partition);
  return {
    topic: config.KAFKA_TOPIC,
    group: config.STREAM_GROUP_ID,
    partitions,
    total: partitions.reduce((a, p) => a + p.lag, 0),
  };
}
