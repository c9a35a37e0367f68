// HDFS: a NameNode and a DataNode from Maven Central's Hadoop jars, WebHDFS on, replication 1.
// The NameNode's web UI lives in hadoop-hdfs's test jar (webapps/), so that jar is on the classpath.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { classpath, jarsIn, writeJavaWrappers } from './java.ts';
import { resolveJars } from './maven.ts';
import { httpJson } from './net.ts';
import { isProvisioned, markProvisioned, runLogged } from './provision.ts';
import { type Recipe, recipeHome, writeRecipe } from './recipe.ts';
import type { LaunchSpec, ServiceDef, StackComponent, StackContext } from './types.ts';

const VERSION = '3.4.1';
export const HDFS_PORTS = { rpc: 8020, http: 9870, dataNodeHttp: 9864, dataNode: 9866, dataNodeIpc: 9867 };

const hadoop = (artifactId: string, classifier?: string) => ({
  groupId: 'org.apache.hadoop',
  artifactId,
  version: VERSION,
  classifier,
});
// Hadoop's own parent POM manages the versions it is built and tested with; without it Maven's
// nearest-wins picked jackson-core 2.10.2 (through avro) beside jackson-databind 2.12.7.1.
const JARS = {
  artifacts: [
    hadoop('hadoop-common'),
    hadoop('hadoop-hdfs'),
    hadoop('hadoop-hdfs-client'),
    hadoop('hadoop-hdfs', 'tests'),
    // Hadoop logs through slf4j; without the binding its distribution ships, the NameNode and the
    // DataNode log nothing at all (slf4j falls back to its no-op logger).
    { groupId: 'org.slf4j', artifactId: 'slf4j-reload4j', version: '1.7.36' },
  ],
  boms: [hadoop('hadoop-project')],
};
const RECIPE: Recipe = { component: 'hadoop', version: VERSION, ...JARS };

const home = (ctx: StackContext) => recipeHome(ctx.cacheDir, RECIPE);
const dir = (ctx: StackContext) => join(ctx.dataDir, 'hdfs');
const confDir = (ctx: StackContext) => join(dir(ctx), 'conf');
const cp = (ctx: StackContext) => classpath(confDir(ctx), jarsIn(join(home(ctx), 'libs')));

// Hadoop 3.4 on Java 17 needs these, as its own scripts add them.
const JAVA17_OPENS = [
  'java.lang',
  'java.util',
  'java.lang.reflect',
  'java.io',
  'java.net',
  'sun.nio.ch',
  'java.util.concurrent',
].flatMap((p) => ['--add-opens', `java.base/${p}=ALL-UNNAMED`]);

function property(name: string, value: string | number): string {
  return `  <property><name>${name}</name><value>${value}</value></property>`;
}

function writeConfig(ctx: StackContext): void {
  const d = dir(ctx);
  mkdirSync(confDir(ctx), { recursive: true });
  const site = (props: [string, string | number][]) =>
    `<?xml version="1.0"?>\n<configuration>\n${props.map(([k, v]) => property(k, v)).join('\n')}\n</configuration>\n`;
  writeFileSync(
    join(confDir(ctx), 'core-site.xml'),
    site([
      ['fs.defaultFS', `hdfs://127.0.0.1:${HDFS_PORTS.rpc}`],
      ['hadoop.tmp.dir', join(d, 'tmp')],
      ['hadoop.http.staticuser.user', ctx.config.HDFS_USER],
    ]),
  );
  writeFileSync(
    join(confDir(ctx), 'hdfs-site.xml'),
    site([
      ['dfs.replication', 1],
      ['dfs.namenode.name.dir', `file://${join(d, 'name')}`],
      ['dfs.datanode.data.dir', `file://${join(d, 'data')}`],
      ['dfs.namenode.rpc-address', `127.0.0.1:${HDFS_PORTS.rpc}`],
      ['dfs.namenode.http-address', `127.0.0.1:${HDFS_PORTS.http}`],
      ['dfs.datanode.address', `127.0.0.1:${HDFS_PORTS.dataNode}`],
      ['dfs.datanode.http.address', `127.0.0.1:${HDFS_PORTS.dataNodeHttp}`],
      ['dfs.datanode.ipc.address', `127.0.0.1:${HDFS_PORTS.dataNodeIpc}`],
      ['dfs.datanode.hostname', '127.0.0.1'],
      ['dfs.webhdfs.enabled', 'true'],
      // The pipeline writes as a plain user name over WebHDFS; a single-user dev stack.
      ['dfs.permissions.enabled', 'false'],
      ['dfs.namenode.safemode.extension', 0],
      ['dfs.namenode.safemode.min.datanodes', 0],
      ['dfs.heartbeat.interval', 1],
      ['dfs.namenode.heartbeat.recheck-interval', 10000],
      // One DataNode: a failed pipeline cannot be repaired by swapping in another node.
      ['dfs.client.block.write.replace-datanode-on-failure.enable', 'false'],
      ['dfs.namenode.fs-limits.min-block-size', 1024],
    ]),
  );
  writeFileSync(
    join(confDir(ctx), 'log4j.properties'),
    'log4j.rootLogger=INFO, console\nlog4j.appender.console=org.apache.log4j.ConsoleAppender\nlog4j.appender.console.layout=org.apache.log4j.PatternLayout\nlog4j.appender.console.layout.ConversionPattern=%d{ISO8601} %p %c{2}: %m%n\nlog4j.logger.org.apache.hadoop.hdfs.StateChange=WARN\nlog4j.logger.org.apache.hadoop.hdfs.server.namenode.FSNamesystem.audit=WARN\nlog4j.logger.BlockStateChange=WARN\nlog4j.logger.org.apache.hadoop.hdfs.server.datanode.DataNode.clienttrace=WARN\nlog4j.logger.org.apache.hadoop.hdfs.server.datanode.DataNode=WARN\nlog4j.logger.org.apache.hadoop.util.NativeCodeLoader=ERROR\nlog4j.logger.http.requests.namenode=WARN\nlog4j.logger.http.requests.datanode=WARN\n',
  );
}

function javaLaunch(ctx: StackContext, mainClass: string, heap: string): LaunchSpec {
  return {
    command: 'java',
    args: [
      `-Xmx${heap}`,
      ...JAVA17_OPENS,
      `-Dhadoop.home.dir=${home(ctx)}`,
      `-Dhadoop.log.dir=${dir(ctx)}`,
      '-Djava.net.preferIPv4Stack=true',
      '-cp',
      cp(ctx),
      mainClass,
    ],
    cwd: dir(ctx),
    env: { HADOOP_USER_NAME: ctx.config.HDFS_USER },
  };
}

interface JmxAnswer {
  beans?: Record<string, unknown>[];
}

async function nameNodeBean(name: string): Promise<Record<string, unknown> | undefined> {
  const res = await httpJson<JmxAnswer>(
    `http://127.0.0.1:${HDFS_PORTS.http}/jmx?qry=Hadoop:service=NameNode,name=${name}`,
  );
  return res?.beans?.[0];
}

const nameNode: ServiceDef = {
  name: 'hdfs-namenode',
  port: HDFS_PORTS.http,
  url: `http://127.0.0.1:${HDFS_PORTS.http}`,
  processMarker: 'hdfs.server.namenode.NameNode',
  stopTimeoutMs: 20_000,
  startTimeoutMs: 90_000,
  async prepare(ctx) {
    writeConfig(ctx);
    if (!existsSync(join(dir(ctx), 'name', 'current', 'VERSION'))) {
      const spec = javaLaunch(ctx, 'org.apache.hadoop.hdfs.server.namenode.NameNode', '256m');
      await runLogged(
        spec.command,
        [...spec.args, '-format', '-nonInteractive', '-clusterid', 'logpipe'],
        join(dir(ctx), 'format.log'),
        {
          env: spec.env,
        },
      );
    }
    return javaLaunch(ctx, 'org.apache.hadoop.hdfs.server.namenode.NameNode', '384m');
  },
  async ready() {
    const res = await httpJson<{ FileStatus?: unknown }>(
      `http://127.0.0.1:${HDFS_PORTS.http}/webhdfs/v1/?op=GETFILESTATUS&user.name=logpipe`,
    );
    return res?.FileStatus !== undefined;
  },
};

const dataNode: ServiceDef = {
  name: 'hdfs-datanode',
  port: HDFS_PORTS.dataNodeHttp,
  url: `http://127.0.0.1:${HDFS_PORTS.dataNodeHttp}`,
  processMarker: 'hdfs.server.datanode.DataNode',
  after: ['hdfs-namenode'],
  stopTimeoutMs: 20_000,
  startTimeoutMs: 90_000,
  async prepare(ctx) {
    writeConfig(ctx);
    return javaLaunch(ctx, 'org.apache.hadoop.hdfs.server.datanode.DataNode', '256m');
  },
  // Ready when the NameNode counts it live and has left safe mode, so writes succeed.
  async ready() {
    const state = await nameNodeBean('FSNamesystemState');
    const info = await nameNodeBean('NameNodeInfo');
    return Number(state?.NumLiveDataNodes ?? 0) >= 1 && info?.Safemode === '';
  },
};

/**
 * `hdfs-dfs -ls /` and friends, the FsShell of `hdfs dfs`, as the user logpipe writes as. Hadoop's
 * client needs a core-site.xml on its classpath (without one it stops: "core-site.xml not found"),
 * so the tool gets a configuration folder of its own, naming the local NameNode. Written at every
 * provision (it costs nothing), so a cache made before this fix gets it too.
 */
function writeShellTool(ctx: StackContext): void {
  const etc = join(home(ctx), 'etc');
  mkdirSync(etc, { recursive: true });
  writeFileSync(
    join(etc, 'core-site.xml'),
    `<?xml version="1.0"?>\n<configuration>\n  <property><name>fs.defaultFS</name><value>hdfs://127.0.0.1:${HDFS_PORTS.rpc}</value></property>\n</configuration>\n`,
  );
  writeFileSync(
    join(etc, 'log4j.properties'),
    'log4j.rootLogger=WARN, console\nlog4j.appender.console=org.apache.log4j.ConsoleAppender\nlog4j.appender.console.target=System.err\nlog4j.appender.console.layout=org.apache.log4j.PatternLayout\nlog4j.appender.console.layout.ConversionPattern=%d %p %c: %m%n\nlog4j.logger.org.apache.hadoop.util.NativeCodeLoader=ERROR\n',
  );
  writeJavaWrappers(
    join(home(ctx), 'bin'),
    `${etc}:${classpath(jarsIn(join(home(ctx), 'libs')))}`,
    { 'hdfs-dfs': 'org.apache.hadoop.fs.FsShell' },
    ['-Xmx256m', '-DHADOOP_USER_NAME=logpipe', `-Dhadoop.home.dir=${home(ctx)}`],
  );
}

export const hdfs: StackComponent = {
  name: 'hdfs',
  version: VERSION,
  async provision(ctx) {
    if (!isProvisioned(home(ctx))) {
      const log = join(home(ctx), 'provision.log');
      await ctx.progress.step('hdfs', `resolving Hadoop ${VERSION} from Maven Central`, log, () =>
        resolveJars('hadoop', JARS, home(ctx), ctx.cacheDir, log),
      );
      writeRecipe(home(ctx), RECIPE);
      markProvisioned(home(ctx));
    }
    writeShellTool(ctx);
  },
  tools: (ctx) => ({ 'hdfs-dfs': join(home(ctx), 'bin', 'hdfs-dfs') }),
  services: [nameNode, dataNode],
};
