// The kafkajs client, configured from the environment; kafkajs's own logs go through pino.
// kafkajs warns about its v2 partitioner change at every producer; logpipe uses the default on purpose.
process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';

import { Kafka, logLevel as kafkaLogLevel, type logCreator } from 'kafkajs';
import type { Config } from '../config.ts';
import { createLogger } from '../log.ts';

const toPino: logCreator = () => {
  const log = createLogger('kafkajs');
  return ({ level, log: entry }) => {
    const { message, ...rest } = entry;
    if (level === kafkaLogLevel.ERROR) log.error(rest, message);
    else if (level === kafkaLogLevel.WARN) log.warn(rest, message);
    else if (level === kafkaLogLevel.INFO) log.debug(rest, message);
  };
};

export function createKafka(config: Pick<Config, 'KAFKA_BROKERS'>, clientId = 'logpipe'): Kafka {
  return new Kafka({
    clientId,
    brokers: config.KAFKA_BROKERS,
    logLevel: kafkaLogLevel.WARN,
    logCreator: toPino,
  });
}
