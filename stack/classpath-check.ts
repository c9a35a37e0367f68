// A guard against a classpath Maven resolved wrongly. Maven's "nearest wins" can pick an old
// jackson-core beside a new jackson-databind (seen with Hadoop through avro), and a reused folder
// can hold an older jar beside the new one; both fail only at run time, with NoClassDefFoundError.
// Pure: it reads `mvn dependency:list` lines and the libs folder's file names.

export interface ResolvedArtifact {
  groupId: string;
  artifactId: string;
  type: string;
  classifier?: string;
  version: string;
}

/** Parses the lines of `mvn dependency:list -DoutputFile=…` (group:artifact:type[:classifier]:version:scope). */
export function parseDependencyList(text: string): ResolvedArtifact[] {
  return text.split('\n').flatMap((raw) => {
    const line = raw.trim().replace(/ -- module .*$/, '');
    const parts = line.split(':');
    if (parts.length === 5) {
      const [groupId, artifactId, type, version] = parts as [string, string, string, string];
      return [{ groupId, artifactId, type, version }];
    }
    if (parts.length === 6) {
      const [groupId, artifactId, type, classifier, version] = parts as [
        string,
        string,
        string,
        string,
        string,
      ];
      return [{ groupId, artifactId, type, classifier, version }];
    }
    return [];
  });
}

/** The file name `dependency:copy-dependencies` gives an artifact. */
export function jarFileName(a: ResolvedArtifact): string {
  return `${a.artifactId}-${a.version}${a.classifier ? `-${a.classifier}` : ''}.${a.type === 'test-jar' ? 'jar' : a.type}`;
}

interface Family {
  name: string;
  /** Whether an artifact belongs to the family. */
  member: (a: ResolvedArtifact) => boolean;
  /** The part of the version that must be equal across the family. */
  key: (version: string) => string;
}

// jackson-databind ships micro patches (2.12.7.1) on top of a release: compare three components.
const releaseOf = (v: string) => v.split('.').slice(0, 3).join('.');

export const FAMILIES: Family[] = [
  {
    name: 'jackson',
    // Jackson 2 (com.fasterxml); the Jackson 1 "-asl" jars are a separate, self-consistent library.
    member: (a) => a.groupId.startsWith('com.fasterxml.jackson') && a.version.startsWith('2.'),
    key: releaseOf,
  },
  {
    name: 'netty',
    // Netty 4 modules move together; tcnative and jni-util have versions of their own.
    member: (a) =>
      a.groupId === 'io.netty' && a.version.startsWith('4.') && !/tcnative|jni-util/.test(a.artifactId),
    key: (v) => v,
  },
  {
    name: 'guava',
    member: (a) => a.groupId === 'com.google.guava' && a.artifactId === 'guava',
    key: (v) => v,
  },
];

/** What is wrong with a resolved classpath, one message per problem naming the artifacts. */
export function classpathProblems(artifacts: ResolvedArtifact[], files: string[]): string[] {
  const problems: string[] = [];
  for (const family of FAMILIES) {
    const members = artifacts.filter(family.member);
    const versions = new Set(members.map((a) => family.key(a.version)));
    if (versions.size > 1) {
      const list = members.map((a) => `${a.artifactId}-${a.version}`).sort();
      problems.push(
        `mismatched ${family.name} versions (${[...versions].sort().join(' vs ')}): ${list.join(', ')}`,
      );
    }
  }
  const versionsByArtifact = new Map<string, Set<string>>();
  for (const a of artifacts) {
    const id = `${a.groupId}:${a.artifactId}`;
    versionsByArtifact.set(id, (versionsByArtifact.get(id) ?? new Set()).add(a.version));
  }
  for (const [id, versions] of versionsByArtifact) {
    if (versions.size > 1) problems.push(`${id} resolved twice: ${[...versions].sort().join(' and ')}`);
  }
  const expected = new Set(artifacts.map(jarFileName));
  const stray = files.filter((f) => f.endsWith('.jar') && !expected.has(f)).sort();
  if (stray.length) {
    problems.push(`jars that Maven did not resolve this time (an older install's?): ${stray.join(', ')}`);
  }
  return problems;
}
