/**
 * Spark properties a security review found stored and shown (L1): keys and values that redaction
 * (collectors/record.ts redactSecrets) missed, and an application's own `spark.redaction.regex` in
 * Java syntax that JavaScript read differently or not at all (its rule was then dropped). And what
 * must stay readable: ordinary configuration a Spark engineer needs to see.
 */
import { describe, expect, it } from 'vitest';
import { redactSecrets, type Problem } from '../src/collectors/record';
import { REDACTED } from '../src/common/secretText';

describe('redactSecrets: keys the review found unredacted', () => {
  it.each([
    'spark.es.net.http.auth.pass',
    'spark.redis.auth',
    'spark.es.net.http.header.Authorization',
    'spark.hadoop.fs.s3a.encryption.key',
    'spark.hadoop.fs.s3a.server-side-encryption.key',
    'spark.executorEnv.DB_PASS',
    'spark.executorEnv.MYSQL_PWD',
    'spark.kubernetes.driverEnv.PGPASS',
    'spark.executorEnv.GITHUB_PAT',
    'spark.yarn.appMasterEnv.DB_PASSWORD_2',
    'spark.yarn.appMasterEnv.SPARK_AUTH_HEADER',
    'spark.executorEnv.API_KEY_FILE_CONTENT',
    'spark.executorEnv.HF_CREDS',
  ])('redacts %s', (key) => {
    expect(redactSecrets({ [key]: 'plain-value-42', 'spark.app.name': 'etl' })).toEqual({ [key]: REDACTED, 'spark.app.name': 'etl' });
  });
});

describe('redactSecrets: values the review found unredacted', () => {
  it.each([
    ['spark.driver.extraJavaOptions', '-Dfoo.pwd=LEAK1 -Xmx1g', `-Dfoo.pwd=${REDACTED} -Xmx1g`],
    ['spark.executor.extraJavaOptions', '-Ddb.passphrase=LEAK2', `-Ddb.passphrase=${REDACTED}`],
    ['spark.datasource.url', 'jdbc:sqlserver://h:1433;user=sa;pwd=LEAK3', `jdbc:sqlserver://h:1433;user=sa;pwd=${REDACTED}`],
    ['spark.hadoop.javax.jdo.option.ConnectionURL', 'jdbc:oracle:thin:scott/LEAK4@db:1521/orcl', `jdbc:oracle:thin:scott/${REDACTED}@db:1521/orcl`],
    ['spark.sql.catalog.x.uri', 'thrift://host:9083?auth=LEAK5', `thrift://host:9083?auth=${REDACTED}`],
    ['spark.mongodb.input.uri', 'mongodb://user:LEAK6@part@host/db', `mongodb://user:${REDACTED}@host/db`],
    ['spark.some.url', 'https://user:LEAK/7777@host/x', `https://user:${REDACTED}@host/x`],
    ['spark.executorEnv.HTTP_PROXY', 'http://proxyuser:LEAK8@proxy:3128', `http://proxyuser:${REDACTED}@proxy:3128`],
    ['spark.executorEnv.DBX', 'dapi0123456789abcdef0123456789abcdef', REDACTED],
    ['spark.executorEnv.GCP_AT', 'ya29.a0AfH6SMBxLEAK', REDACTED],
    ['spark.executorEnv.AWS_ID', 'AKIAIOSFODNN7EXAMPLE', REDACTED],
  ])('masks the secret in %s', (key, value, masked) => {
    expect(redactSecrets({ [key]: value })).toEqual({ [key]: masked });
  });
});

describe('redactSecrets: what stays readable', () => {
  it('keeps the ordinary configuration a Spark engineer needs to see', () => {
    const props = {
      'spark.authenticate': 'true',
      'spark.authenticate.enableSaslEncryption': 'true',
      'spark.io.encryption.enabled': 'true',
      'spark.io.encryption.keySizeBits': '256',
      'spark.network.crypto.enabled': 'true',
      'spark.ssl.enabled': 'true',
      'spark.ssl.keyStore': '/etc/spark/ssl/keystore.jks',
      'spark.kerberos.keytab': '/etc/security/keytabs/spark.keytab',
      'spark.yarn.keytab': '/etc/security/keytabs/spark.keytab',
      'spark.hadoop.fs.s3a.aws.credentials.provider': 'org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider',
      'spark.hadoop.fs.s3a.server-side-encryption-algorithm': 'SSE-KMS',
      'spark.sql.shuffle.partitions': '200',
      'spark.executor.memory': '4g',
      'spark.yarn.appMasterEnv.JAVA_HOME': '/usr/lib/jvm/java-17',
      'spark.executorEnv.PYTHONPATH': '/opt/app/lib',
      'spark.executorEnv.PATH': '/usr/bin:/bin',
      'spark.kubernetes.authenticate.driver.serviceAccountName': 'spark',
      'spark.sql.hive.thriftServer.singleSession': 'true',
      'spark.driver.extraJavaOptions': '-XX:+UseG1GC -Djava.security.auth.login.config=/etc/jaas.conf -Dcom.sun.management.jmxremote.authenticate=false',
      'spark.mongodb.read.connection.uri': 'mongodb://etl@m1:27017/db?authSource=admin',
      'spark.sql.hive.hiveserver2.jdbc.url': 'jdbc:hive2://hs2:10000/default;principal=hive/_HOST@EXAMPLE.COM',
      'spark.master': 'k8s://https://10.0.0.1:443',
    };
    expect(redactSecrets(props)).toEqual(props);
  });
});

describe("redactSecrets: the application's own spark.redaction.regex in Java syntax", () => {
  const base = '(?i)secret|password|token|access[.]?key';
  it.each([`${base}|(?i)corp\\.blob`, `${base}|\\Qcorp.blob\\E`, `${base}|corp\\.\\p{Alpha}+`, `${base}|corp\\.blob\\z`, `${base}|corp\\.blob++`, `${base}|(?>corp)\\.blob`])(
    'is translated, not dropped: %s hides spark.corp.blob and nothing more',
    (rule) => {
      const problems: Problem[] = [];
      const out = redactSecrets({ 'spark.redaction.regex': rule, 'spark.corp.blob': 'plainvalue', 'spark.executor.memory': '4g' }, { problems, where: 'log' });
      expect(out['spark.corp.blob']).toBe(REDACTED);
      expect(out['spark.executor.memory']).toBe('4g');
      expect(problems).toEqual([]);
    },
  );

  it('hides more, and says so, when a rule cannot be translated', () => {
    const problems: Problem[] = [];
    const props = { 'spark.redaction.regex': `${base}|corp\\.[a-z&&[^x]]+`, 'spark.corp.blob': 'plainvalue', 'spark.executor.memory': '4g' };
    const out = redactSecrets(props, { problems, where: 'log', propsAt: { file: 'log', line: 2 } });
    expect(out['spark.corp.blob']).toBe(REDACTED);
    expect(out['spark.executor.memory']).toBe('4g');
    expect(problems).toEqual([expect.objectContaining({ severity: 'warning', code: 'redaction-regex', file: 'log', line: 2 })]);
    expect(problems[0]!.message).toMatch(/cannot translate.*corp/);
    // A branch with no word of its own: every value is hidden.
    expect(redactSecrets({ 'spark.redaction.regex': `${base}|[a-z&&[^x]]+`, 'spark.executor.memory': '4g' })['spark.executor.memory']).toBe(REDACTED);
  });
});

describe('redactSecrets over what it stored (a storage migration re-redacting stored environments)', () => {
  it('changes nothing the second time, and says nothing of the own rule it hid', () => {
    const props = {
      'spark.redaction.regex': '(?i)secret|password|\\Qcorp.blob\\E',
      'spark.corp.blob': 'v',
      'spark.executorEnv.DB_PASS': 'p',
      'spark.mongodb.input.uri': 'mongodb://u:p@ss@h/db',
      'spark.driver.extraJavaOptions': '-Dfoo.pwd=x -Xmx1g',
      'spark.app.name': 'redacted report',
    };
    const once = redactSecrets(props);
    const problems: Problem[] = [];
    expect(redactSecrets(once, { problems, where: 'db' })).toEqual(once);
    expect(once['spark.app.name']).toBe('redacted report');
    expect(problems).toEqual([]);
  });
});
