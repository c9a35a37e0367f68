// Resolves Java artifacts from Maven Central into a cache folder with Maven itself, so a server
// shipped only as jars (Kafka, Hadoop, Cassandra) runs from a plain classpath. Versions are
// aligned by the BOMs the project itself builds with, and the result is checked before use.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { classpathProblems, parseDependencyList } from './classpath-check.ts';
import { runLogged } from './provision.ts';

/** Maven's words for a registry that refused an artifact (HTTP 403): final, never retried. */
export function isRefusal(output: string): boolean {
  return /status code: 403\b|\b403 Forbidden|Forbidden \(403\)|Return code is: 403\b/i.test(output);
}

/**
 * Runs `attempt` up to `attempts` times (a dropped connection or a truncated download on a cold
 * install must not fail `up`), unless the output of the failed attempt says the registry refused.
 */
export async function withRetries(
  attempt: (n: number) => Promise<void>,
  outputOf: () => string,
  opts: { attempts: number; waitMs: (n: number) => number; sleep?: (ms: number) => Promise<void> },
): Promise<void> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (n >= opts.attempts || isRefusal(outputOf())) throw err;
      await sleep(opts.waitMs(n));
    }
  }
}

const logSize = (file: string) => (existsSync(file) ? statSync(file).size : 0);
const logFrom = (file: string, offset: number) =>
  existsSync(file) ? readFileSync(file).subarray(offset).toString('utf8') : '';

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
  // One local repository per component: Maven 3.8 does not lock its local repository, and the
  // stack resolves Kafka, Hadoop and Cassandra at the same time.
  const repo = join(cacheDir, `m2-${name}`);
  let offset = 0;
  await withRetries(
    (n) => {
      offset = logSize(logFile);
      return runLogged(
        'mvn',
        [
          '-B',
          '-ntp',
          ...(n > 1 ? ['-U'] : []), // -U: try again what the failed attempt cached as missing
          `-Dmaven.repo.local=${repo}`,
          'dependency:copy-dependencies',
          'dependency:list',
          `-DoutputDirectory=${libs}`,
          `-DoutputFile=${listFile}`,
          '-DincludeScope=runtime',
        ],
        logFile,
        { cwd: dir },
      );
    },
    () => logFrom(logFile, offset),
    { attempts: 3, waitMs: (n) => 5_000 * n },
  );
  const problems = classpathProblems(parseDependencyList(readFileSync(listFile, 'utf8')), readdirSync(libs));
  if (problems.length) throw new ClasspathError(name, problems, libs);
  return libs;
}
