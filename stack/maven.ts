// Resolves Java artifacts from Maven Central into a cache folder with Maven itself, so a server
// shipped only as jars (Kafka, Hadoop, Cassandra) runs from a plain classpath. Versions are
// aligned by the BOMs the project itself builds with, and the result is checked before use.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { classpathProblems, parseDependencyList } from './classpath-check.ts';
import { runLogged } from './provision.ts';

export interface MavenArtifact {
  groupId: string;
  artifactId: string;
  version: string;
  classifier?: string;
}

export interface JarRecipe {
  artifacts: MavenArtifact[];
  /** BOMs imported into dependencyManagement (Hadoop's own hadoop-project, jackson-bom, ...). */
  boms: MavenArtifact[];
}

const coordinates = (a: MavenArtifact) =>
  `<groupId>${a.groupId}</groupId><artifactId>${a.artifactId}</artifactId><version>${a.version}</version>`;

export function pom(name: string, recipe: JarRecipe): string {
  const deps = recipe.artifacts
    .map(
      (a) =>
        `<dependency>${coordinates(a)}${a.classifier ? `<classifier>${a.classifier}</classifier>` : ''}</dependency>`,
    )
    .join('\n    ');
  const boms = recipe.boms
    .map((b) => `<dependency>${coordinates(b)}<type>pom</type><scope>import</scope></dependency>`)
    .join('\n      ');
  return `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>logpipe.stack</groupId><artifactId>${name}</artifactId><version>1</version><packaging>pom</packaging>
  <dependencyManagement>
    <dependencies>
      ${boms}
    </dependencies>
  </dependencyManagement>
  <dependencies>
    ${deps}
  </dependencies>
</project>
`;
}

export class ClasspathError extends Error {
  constructor(name: string, problems: string[], libs: string) {
    super(`the ${name} classpath in ${libs} is inconsistent:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ClasspathError';
  }
}

/** Copies the artifacts and their runtime dependencies into `${dir}/libs`, then checks them. */
export async function resolveJars(
  name: string,
  recipe: JarRecipe,
  dir: string,
  cacheDir: string,
  logFile: string,
): Promise<string> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'pom.xml'), pom(name, recipe));
  const libs = join(dir, 'libs');
  rmSync(libs, { recursive: true, force: true }); // a half-finished earlier attempt leaves no jar behind
  const listFile = join(dir, 'dependencies.txt');
  await runLogged(
    'mvn',
    [
      '-B',
      '-ntp',
      `-Dmaven.repo.local=${join(cacheDir, 'm2')}`,
      'dependency:copy-dependencies',
      'dependency:list',
      `-DoutputDirectory=${libs}`,
      `-DoutputFile=${listFile}`,
      '-DincludeScope=runtime',
    ],
    logFile,
    { cwd: dir },
  );
  const problems = classpathProblems(parseDependencyList(readFileSync(listFile, 'utf8')), readdirSync(libs));
  if (problems.length) throw new ClasspathError(name, problems, libs);
  return libs;
}
