// Cassandra: one node from Maven Central's cassandra-all on Java 17, with the JVM flags of
// Cassandra's own conf/jvm17-server.options and a heap capped to fit beside the rest of the stack.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import cassandraDriver from 'cassandra-driver';
import { classpath, jarsIn } from './java.ts';
import { resolveJars } from './maven.ts';
import { isProvisioned, markProvisioned } from './provision.ts';
import { type Recipe, recipeHome, writeRecipe } from './recipe.ts';
import type { StackComponent, StackContext } from './types.ts';

const VERSION = '5.0.6';
const NATIVE_PORT = 9042;

// Cassandra 5.0.6's build pins jackson 2.19.2 and netty 4.1.119; the BOMs keep every module on those.
const JARS = {
  artifacts: [{ groupId: 'org.apache.cassandra', artifactId: 'cassandra-all', version: VERSION }],
  boms: [
    { groupId: 'com.fasterxml.jackson', artifactId: 'jackson-bom', version: '2.19.2' },
    { groupId: 'io.netty', artifactId: 'netty-bom', version: '4.1.119.Final' },
  ],
};
const RECIPE: Recipe = { component: 'cassandra', version: VERSION, ...JARS };

const home = (ctx: StackContext) => recipeHome(ctx.cacheDir, RECIPE);
const dir = (ctx: StackContext) => join(ctx.dataDir, 'cassandra');

const JVM17 = [
  '-XX:+UseG1GC',
  '-XX:+ParallelRefProcEnabled',
  '-XX:MaxTenuringThreshold=1',
  '-XX:G1HeapRegionSize=16m',
  '-XX:G1RSetUpdatingPauseTimePercent=5',
  '-XX:MaxGCPauseMillis=300',
  '-XX:InitiatingHeapOccupancyPercent=70',
  '-Djdk.attach.allowAttachSelf=true',
  ...[
    'java.base/jdk.internal.misc',
    'java.management.rmi/com.sun.jmx.remote.internal.rmi',
    'java.rmi/sun.rmi.registry',
    'java.rmi/sun.rmi.server',
    'java.sql/java.sql',
    'java.base/java.lang.ref',
    'jdk.unsupported/sun.misc',
    'jdk.compiler/com.sun.tools.javac.file',
    'jdk.attach/sun.tools.attach',
  ].flatMap((p) => ['--add-exports', `${p}=ALL-UNNAMED`]),
  ...[
    'java.base/java.lang.module',
    'java.base/jdk.internal.loader',
    'java.base/jdk.internal.ref',
    'java.base/jdk.internal.reflect',
    'java.base/jdk.internal.math',
    'java.base/jdk.internal.module',
    'java.base/jdk.internal.util.jar',
    'jdk.management/com.sun.management.internal',
    'java.base/sun.nio.ch',
    'java.base/java.io',
    'java.base/java.lang.reflect',
    'jdk.compiler/com.sun.tools.javac',
    'java.base/java.lang',
    'java.base/java.util',
  ].flatMap((p) => ['--add-opens', `${p}=ALL-UNNAMED`]),
  '-Dio.netty.tryReflectionSetAccessible=true',
  '-Dio.netty.allocator.useCacheForAllThreads=true',
  '-Dio.netty.allocator.maxOrder=11',
];

function cassandraYaml(d: string): string {
  return `# Written by logpipe's local stack: a single node on loopback.
cluster_name: logpipe
num_tokens: 16
allocate_tokens_for_local_replication_factor: 1
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
data_file_directories: [${join(d, 'data')}]
commitlog_directory: ${join(d, 'commitlog')}
saved_caches_directory: ${join(d, 'saved_caches')}
hints_directory: ${join(d, 'hints')}
cdc_raw_directory: ${join(d, 'cdc_raw')}
commitlog_sync: periodic
commitlog_sync_period: 10000ms
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "127.0.0.1:7000"
listen_address: 127.0.0.1
rpc_address: 127.0.0.1
storage_port: 7000
native_transport_port: ${NATIVE_PORT}
start_native_transport: true
endpoint_snitch: SimpleSnitch
authenticator: AllowAllAuthenticator
authorizer: AllowAllAuthorizer
concurrent_reads: 16
concurrent_writes: 32
concurrent_counter_writes: 16
memtable_allocation_type: offheap_objects
memtable_heap_space: 128MiB
memtable_offheap_space: 256MiB
key_cache_size: 32MiB
disk_access_mode: mmap_index_only
batch_size_warn_threshold: 64KiB
batch_size_fail_threshold: 640KiB
unlogged_batch_across_partitions_warn_threshold: 50
`;
}

const LOGBACK = `<configuration scan="false">
  <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
    <encoder><pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="STDOUT"/></root>
</configuration>
`;

export const cassandra: StackComponent = {
  name: 'cassandra',
  version: VERSION,
  async provision(ctx) {
    if (isProvisioned(home(ctx))) return;
    const log = join(home(ctx), 'provision.log');
    await ctx.progress.step('cassandra', `resolving cassandra-all ${VERSION} from Maven Central`, log, () =>
      resolveJars('cassandra', JARS, home(ctx), ctx.cacheDir, log),
    );
    writeRecipe(home(ctx), RECIPE);
    markProvisioned(home(ctx));
  },
  tools: () => ({}),
  services: [
    {
      name: 'cassandra',
      port: NATIVE_PORT,
      processMarker: 'CassandraDaemon',
      stopTimeoutMs: 30_000,
      startTimeoutMs: 180_000,
      async prepare(ctx) {
        const d = dir(ctx);
        const conf = join(d, 'conf');
        mkdirSync(conf, { recursive: true });
        writeFileSync(join(conf, 'cassandra.yaml'), cassandraYaml(d));
        writeFileSync(join(conf, 'logback.xml'), LOGBACK);
        const libs = join(home(ctx), 'libs');
        const jamm = readdirSync(libs).find((f) => /^jamm-.*\.jar$/.test(f));
        return {
          command: 'java',
          args: [
            '-Xms768m',
            '-Xmx768m',
            '-Xss256k',
            '-XX:MaxDirectMemorySize=512m',
            ...(jamm ? [`-javaagent:${join(libs, jamm)}`] : []),
            ...JVM17,
            `-Dcassandra.config=file://${join(conf, 'cassandra.yaml')}`,
            `-Dlogback.configurationFile=${join(conf, 'logback.xml')}`,
            `-Dcassandra.logdir=${join(d, 'logs')}`,
            `-Dcassandra.storagedir=${d}`,
            '-Dcassandra-foreground=yes',
            '-Dcassandra.jmx.local.port=7199',
            // A single node has no ring to wait for.
            '-Dcassandra.skip_wait_for_gossip_to_settle=0',
            '-Dcassandra.ring_delay_ms=1000',
            '-Dcassandra.superuser_setup_delay_ms=0',
            '-cp',
            classpath(conf, jarsIn(libs)),
            'org.apache.cassandra.service.CassandraDaemon',
          ],
          cwd: d,
        };
      },
      async ready() {
        const client = new cassandraDriver.Client({
          contactPoints: ['127.0.0.1'],
          protocolOptions: { port: NATIVE_PORT },
          localDataCenter: 'datacenter1',
          socketOptions: { connectTimeout: 2000, readTimeout: 4000 },
        });
        try {
          await client.connect();
          const rs = await client.execute('SELECT release_version FROM system.local');
          return rs.rows.length === 1;
        } catch {
          return false;
        } finally {
          await client.shutdown().catch(() => {});
        }
      },
    },
  ],
};
