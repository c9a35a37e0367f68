// The classpath guard and the recipe keys of the local stack's cache. The dependency lists are
// written by hand in the form of `mvn dependency:list`, including the case seen on a cold
// install: jackson-core 2.10.2 (through avro) beside jackson-databind 2.12.7.1.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classpathProblems, jarFileName, parseDependencyList } from '../../stack/classpath-check.ts';
import { pom } from '../../stack/maven.ts';
import { recipeHome, recipeKey } from '../../stack/recipe.ts';

const LIST = `
The following files have been resolved:
   com.fasterxml.jackson.core:jackson-core:jar:2.12.7:compile -- module com.fasterxml.jackson.core
   com.fasterxml.jackson.core:jackson-databind:jar:2.12.7.1:compile
   com.fasterxml.jackson.core:jackson-annotations:jar:2.12.7:compile
   org.codehaus.jackson:jackson-core-asl:jar:1.9.13:compile
   io.netty:netty-transport-native-epoll:jar:linux-x86_64:4.1.100.Final:runtime
   io.netty:netty-transport-native-epoll:jar:4.1.100.Final:compile
   io.netty:netty-tcnative-classes:jar:2.0.70.Final:compile
   com.google.guava:guava:jar:27.0-jre:compile
   org.apache.hadoop:hadoop-hdfs:jar:tests:3.4.1:compile
`;
const files = (list: string) => parseDependencyList(list).map(jarFileName);

describe('classpath check', () => {
  it('parses dependency:list lines, with and without a classifier', () => {
    const deps = parseDependencyList(LIST);
    assert.equal(deps.length, 9);
    assert.deepEqual(deps[4], {
      groupId: 'io.netty',
      artifactId: 'netty-transport-native-epoll',
      type: 'jar',
      classifier: 'linux-x86_64',
      version: '4.1.100.Final',
    });
    assert.equal(jarFileName(deps[8] as (typeof deps)[number]), 'hadoop-hdfs-3.4.1-tests.jar');
  });

  it('accepts a consistent classpath (databind micro patches, tcnative and Jackson 1 apart)', () => {
    assert.deepEqual(classpathProblems(parseDependencyList(LIST), files(LIST)), []);
  });

  it('names the mismatched jackson artifacts Maven picked by nearest-wins', () => {
    const bad = LIST.replace('jackson-core:jar:2.12.7', 'jackson-core:jar:2.10.2');
    const problems = classpathProblems(parseDependencyList(bad), files(bad));
    assert.equal(problems.length, 1);
    assert.match(problems[0] as string, /mismatched jackson versions \(2\.10\.2 vs 2\.12\.7\)/);
    assert.match(problems[0] as string, /jackson-core-2\.10\.2/);
    assert.match(problems[0] as string, /jackson-databind-2\.12\.7\.1/);
  });

  it('names mismatched netty modules and two guava versions', () => {
    const bad = `${LIST}   io.netty:netty-buffer:jar:4.1.77.Final:compile\n   com.google.guava:guava:jar:32.0.1-jre:compile\n`;
    const problems = classpathProblems(parseDependencyList(bad), files(bad));
    assert.ok(problems.some((p) => /mismatched netty versions .*netty-buffer-4\.1\.77\.Final/.test(p)));
    assert.ok(problems.some((p) => /mismatched guava versions/.test(p)));
    assert.ok(
      problems.some((p) => /com\.google\.guava:guava resolved twice: 27\.0-jre and 32\.0\.1-jre/.test(p)),
    );
  });

  it('names a jar in the folder that this resolution did not produce', () => {
    const problems = classpathProblems(parseDependencyList(LIST), [
      ...files(LIST),
      'jackson-core-2.10.2.jar',
    ]);
    assert.deepEqual(problems, [
      "jars that Maven did not resolve this time (an older install's?): jackson-core-2.10.2.jar",
    ]);
  });
});

describe('provisioning recipes', () => {
  const recipe = { component: 'hadoop', version: '3.4.1', boms: [{ a: 1 }], artifacts: ['x'] };

  it('keys a cache folder by the whole recipe, whatever the key order', () => {
    assert.equal(
      recipeKey(recipe),
      recipeKey({ artifacts: ['x'], version: '3.4.1', component: 'hadoop', boms: [{ a: 1 }] }),
    );
    assert.notEqual(recipeKey(recipe), recipeKey({ ...recipe, boms: [] }));
    assert.notEqual(recipeKey(recipe), recipeKey({ ...recipe, flags: ['-X'] }));
    assert.match(recipeHome('/cache', recipe), /^\/cache\/hadoop-3\.4\.1-[0-9a-f]{10}$/);
  });

  it('imports the BOMs into dependencyManagement of the resolving POM', () => {
    const xml = pom('hadoop', {
      artifacts: [{ groupId: 'org.apache.hadoop', artifactId: 'hadoop-common', version: '3.4.1' }],
      boms: [{ groupId: 'org.apache.hadoop', artifactId: 'hadoop-project', version: '3.4.1' }],
    });
    assert.match(
      xml,
      /<dependencyManagement>\s*<dependencies>\s*<dependency><groupId>org\.apache\.hadoop<\/groupId><artifactId>hadoop-project<\/artifactId><version>3\.4\.1<\/version><type>pom<\/type><scope>import<\/scope><\/dependency>/,
    );
  });
});
