// Kafka: one KRaft node (broker and controller in one JVM) from Maven Central's jars.
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { classpath, jarsIn, writeJavaWrappers } from './java.ts';
import { resolveJars } from './maven.ts';
import { isProvisioned, markProvisioned, runLogged } from './provision.ts';
import { type Recipe, recipeHome, writeRecipe } from './recipe.ts';
import type { StackComponent, StackContext } from './types.ts';

const VERSION = '3.9.1';
const CONTROLLER_PORT = 9093;

// Kafka 3.9's build pins jackson 2.16.2 and netty 4.1.105; the BOMs keep every module on those.
const JARS = {
  artifacts: [
    { groupId: 'org.apache.kafka', artifactId: 'kafka_2.13', version: VERSION },
    { groupId: 'org.apache.kafka', artifactId: 'kafka-tools', version: VERSION },
    { groupId: 'org.slf4j', artifactId: 'slf4j-reload4j', version: '1.7.36' },
  ],
  boms: [
    { groupId: 'com.fasterxml.jackson', artifactId: 'jackson-bom', version: '2.16.2' },
    { groupId: 'io.netty', artifactId: 'netty-bom', version: '4.1.105.Final' },
  ],
};
const RECIPE: Recipe = { component: 'kafka', version: VERSION, ...JARS };

const home = (ctx: StackContext) => recipeHome(ctx.cacheDir, RECIPE);
const dir = (ctx: StackContext) => join(ctx.dataDir, 'kafka');
const cp = (ctx: StackContext) => classpath(jarsIn(join(home(ctx), 'libs')));

const BROKER_PORT = 9092;
const KAFKA_TOOLS: Record<string, string> = {
  'kafka-topics.sh': 'org.apache.kafka.tools.TopicCommand',
  'kafka-console-producer.sh': 'kafka.tools.ConsoleProducer',
  'kafka-console-consumer.sh': 'org.apache.kafka.tools.consumer.ConsoleConsumer',
  'kafka-consumer-groups.sh': 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
  'kafka-get-offsets.sh': 'org.apache.kafka.tools.GetOffsetShell',
  'kafka-storage.sh': 'kafka.tools.StorageTool',
};

/** A KRaft cluster id: a UUID in base64url, as `kafka-storage random-uuid` prints it. */
export const newClusterId = () => Buffer.from(randomUUID().replaceAll('-', ''), 'hex').toString('base64url');

/**
 * `kafka-storage format`'s arguments. The id is joined to its option: one id in 64 starts with '-'
 * (base64url), and as a separate argument the parser takes it for an option and refuses to format.
 */
export const storageFormatArgs = (clusterId: string, props: string) => [
  'format',
  `--cluster-id=${clusterId}`,
  '-c',
  props,
  '--ignore-formatted',
];

export const kafka: StackComponent = {
  name: 'kafka',
  version: VERSION,
  async provision(ctx) {
    if (isProvisioned(home(ctx))) return;
    const log = join(home(ctx), 'provision.log');
    await ctx.progress.step('kafka', `resolving kafka_2.13 ${VERSION} from Maven Central`, log, () =>
      resolveJars('kafka', JARS, home(ctx), ctx.cacheDir, log),
    );
    const log4j = join(home(ctx), 'tools-log4j.properties');
    writeFileSync(
      log4j,
      'log4j.rootLogger=WARN, stderr\nlog4j.appender.stderr=org.apache.log4j.ConsoleAppender\nlog4j.appender.stderr.Target=System.err\nlog4j.appender.stderr.layout=org.apache.log4j.PatternLayout\nlog4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n\n',
    );
    writeJavaWrappers(join(home(ctx), 'bin'), cp(ctx), KAFKA_TOOLS, [
      '-Xmx256m',
      `-Dlog4j.configuration=file:${log4j}`,
    ]);
    writeRecipe(home(ctx), RECIPE);
    markProvisioned(home(ctx));
  },
  tools: (ctx) => Object.fromEntries(Object.keys(KAFKA_TOOLS).map((t) => [t, join(home(ctx), 'bin', t)])),
  services: [
    {
      name: 'kafka',
      port: BROKER_PORT,
      processMarker: 'kafka.Kafka',
      stopTimeoutMs: 30_000,
      startTimeoutMs: 90_000,
      async prepare(ctx) {
        const d = dir(ctx);
        const port = BROKER_PORT;
        mkdirSync(join(d, 'data'), { recursive: true });
        const props = join(d, 'server.properties');
        writeFileSync(
          props,
          [
            'process.roles=broker,controller',
            'node.id=1',
            `controller.quorum.voters=1@127.0.0.1:${CONTROLLER_PORT}`,
            `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${CONTROLLER_PORT}`,
            `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
            'controller.listener.names=CONTROLLER',
            'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
            'inter.broker.listener.name=PLAINTEXT',
            `log.dirs=${join(d, 'data')}`,
            // Topics are created on purpose, with the partition count the pipeline asks for.
            'auto.create.topics.enable=false',
            'num.partitions=1',
            'offsets.topic.replication.factor=1',
            'offsets.topic.num.partitions=10',
            'transaction.state.log.replication.factor=1',
            'transaction.state.log.min.isr=1',
            'group.initial.rebalance.delay.ms=0',
            'log.retention.hours=168',
            '',
          ].join('\n'),
        );
        const log4j = join(d, 'log4j.properties');
        writeFileSync(
          log4j,
          'log4j.rootLogger=INFO, stdout\nlog4j.appender.stdout=org.apache.log4j.ConsoleAppender\nlog4j.appender.stdout.layout=org.apache.log4j.PatternLayout\nlog4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n\nlog4j.logger.org.apache.kafka=WARN\nlog4j.logger.kafka.coordinator=WARN\nlog4j.logger.state.change.logger=WARN\n',
        );
        // KRaft needs its storage formatted once with a cluster id.
        if (!existsSync(join(d, 'data', 'meta.properties'))) {
          await runLogged(
            'java',
            [
              `-Dlog4j.configuration=file:${log4j}`,
              '-cp',
              cp(ctx),
              'kafka.tools.StorageTool',
              ...storageFormatArgs(newClusterId(), props),
            ],
            join(d, 'format.log'),
          );
        }
        return {
          command: 'java',
          args: [
            '-Xms384m',
            '-Xmx512m',
            '-XX:+UseG1GC',
            '-XX:MaxGCPauseMillis=20',
            '-Djava.awt.headless=true',
            `-Dlog4j.configuration=file:${log4j}`,
            `-Dkafka.logs.dir=${d}`,
            '-cp',
            cp(ctx),
            'kafka.Kafka',
            props,
          ],
          cwd: d,
        };
      },
      async ready() {
        const client = new Kafka({
          clientId: 'logpipe-stack',
          brokers: [`127.0.0.1:${BROKER_PORT}`],
          logLevel: logLevel.NOTHING,
          connectionTimeout: 1000,
          retry: { retries: 0 },
        });
        const admin = client.admin();
        try {
          await admin.connect();
          const cluster = await admin.describeCluster();
          return cluster.brokers.length > 0 && cluster.controller !== null;
        } catch {
          return false;
        } finally {
          await admin.disconnect().catch(() => {});
        }
      },
    },
  ],
};
