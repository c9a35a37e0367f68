// Resolves Java artifacts from Maven Central into a cache folder with Maven itself, so a server
// shipped only as jars (Kafka, Hadoop, Cassandra) runs from a plain classpath.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runLogged } from './provision.ts';

export interface MavenArtifact {
  groupId: string;
  artifactId: string;
  version: string;
  classifier?: string;
}

function pom(name: string, artifacts: MavenArtifact[]): string {
  const deps = artifacts
    .map(
      (a) =>
        `<dependency><groupId>${a.groupId}</groupId><artifactId>${a.artifactId}</artifactId><version>${a.version}</version>${
          a.classifier ? `<classifier>${a.classifier}</classifier>` : ''
        }</dependency>`,
    )
    .join('\n    ');
  return `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>logpipe.stack</groupId><artifactId>${name}</artifactId><version>1</version><packaging>pom</packaging>
  <dependencies>
    ${deps}
  </dependencies>
</project>
`;
}

/** Copies the artifacts and their runtime dependencies into `${dir}/libs`. */
export async function resolveJars(
  name: string,
  artifacts: MavenArtifact[],
  dir: string,
  cacheDir: string,
  logFile: string,
): Promise<string> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'pom.xml'), pom(name, artifacts));
  const libs = join(dir, 'libs');
  await runLogged(
    'mvn',
    [
      '-B',
      '-ntp',
      `-Dmaven.repo.local=${join(cacheDir, 'm2')}`,
      'dependency:copy-dependencies',
      `-DoutputDirectory=${libs}`,
      '-DincludeScope=runtime',
    ],
    logFile,
    { cwd: dir },
  );
  return libs;
}
