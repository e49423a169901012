/**
 * Secrets in text (src/common/secretText.ts), from a security review's findings (L1, L9): a URL's
 * password holding `@`, `/`, `?`, `#`, `;` or `,`; credentials in a query string, a SQL Server or
 * Oracle JDBC URL, a JVM `-D` option; token-shaped values. One rule each, used by the collectors'
 * redaction, the views' URL masking and (through maskSecretText) the storage migration.
 */
import { describe, expect, it } from 'vitest';
import { environmentVariableOf, maskUrlPasswords, maskSecretText, REDACTED, secretName, userInfoSpans, withoutUserInfo } from '../src/common/secretText';
import { maskUrls } from '../src/common/safeUrl';

describe('URL user information runs to the last @ of the URL (L1, L9)', () => {
  it.each([
    ['mongodb://u:p@ss@host/db', 'mongodb://u:***@host/db'],
    ['http://u:pa/ss@host/x', 'http://u:***@host/x'],
    ['http://u:pa?ss@host/x', 'http://u:***@host/x'],
    ['http://u:pa#ss@host/x', 'http://u:***@host/x'],
    ['http://u:pa;ss@127.0.0.1:1/x', 'http://u:***@127.0.0.1:1/x'],
    ['http://u:pa,ss@host:18080/x', 'http://u:***@host:18080/x'],
    ['https://user:LEAK/6666@host/x', 'https://user:***@host/x'],
    ['jdbc:mysql://hive:s3cr3t@db.internal:3306/metastore?useSSL=true', 'jdbc:mysql://hive:***@db.internal:3306/metastore?useSSL=true'],
  ])('masks the whole password of %s', (url, masked) => {
    expect(maskUrlPasswords(url, '***')).toBe(masked);
    expect(maskUrlPasswords(`-Dx=${url} -Dy=1`, '***')).toBe(`-Dx=${masked} -Dy=1`);
  });

  it('ends a URL at white space, a quote or the next scheme://, and keeps what has no password', () => {
    expect(maskUrlPasswords('thrift://u:p1@h1:9083,thrift://v:p2@h2:9083', '***')).toBe('thrift://u:***@h1:9083,thrift://v:***@h2:9083');
    expect(maskUrlPasswords('{"a":"http://u:p@h/x","b":"ftp://h@x"}', '***')).toBe('{"a":"http://u:***@h/x","b":"ftp://h@x"}');
    for (const plain of [
      'k8s://https://10.0.0.1:443',
      's3a://logs@bucket/events',
      'http://hs:18080/api/v1',
      'mongodb://etl@m1:27017,m2:27017/db',
      'https://hs.example.com/path/@x',
      'jdbc:hive2://hs2.example.com:10000/default;principal=hive/_HOST@EXAMPLE.COM',
      'http://hooks.example.com:8080/notify?to=ops@example.com',
    ])
      expect(maskUrlPasswords(plain)).toBe(plain);
  });

  it('withoutUserInfo drops user and password alike; maskUrls (the views) too, whatever the password holds', () => {
    expect(withoutUserInfo('http://alice@corp.com:Pa55@127.0.0.1:18080/')).toBe('http://127.0.0.1:18080/');
    for (const pw of ['plainPW_SECRET', 'pa;ss_SECRET', 'pa,ss_SECRET', 'p@ss_SECRET', 'pa/ss_SECRET'])
      expect(maskUrls(`http://u:${pw}@127.0.0.1:1/: error list-failed listing EMR clusters failed`)).toBe('http://127.0.0.1:1/: error list-failed listing EMR clusters failed');
  });

  it('reads a ${env:NAME} in the user as part of the user', () => {
    const text = 'postgres://${env:PGUSER}:pw@db/x';
    expect(userInfoSpans(text)).toEqual([{ start: 11, colon: text.indexOf(':pw'), at: text.indexOf('@') }]);
  });
});

describe('a password holding white space (white space ends a URL in a text)', () => {
  // What maskSecretText masks of such a password: 'maskSecretText: secrets in values' below.
  it('leaves no part of it in what the views show', () => {
    expect(withoutUserInfo('https://u:my secret@h/x')).toBe('https://h/x');
    expect(maskUrls('http://u:pa ss_SECRET@127.0.0.1:1/: error list-failed')).toBe('http://127.0.0.1:1/: error list-failed');
  });

  it('reads a long line of URLs once: 40,000 of them, each read to the next, not to the end of the line or back to its start', () => {
    const line = 'http://h:abc def '.repeat(40_000);
    const started = performance.now();
    expect(maskSecretText(`${line}x@y`)).toBe(`${'http://h:abc def '.repeat(39_999)}http://h:${REDACTED}@y`);
    expect(maskSecretText(`${line}x`)).toBe(`${line}x`);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('leaves ordinary texts readable: a port, a colon ending a sentence or in a path, an IPv6 host, another line', () => {
    for (const plain of [
      'GET http://hs:18080 failed; mail ops@example.com',
      'cannot reach jdbc:postgresql://db:5432/sales as bob@corp.com',
      'spark://master:7077 lost executor 3 on worker@10.0.0.5',
      'see https://example.com: write to help@example.com',
      'https://host/a:b then c@d',
      'http://[::1]:8080 refused for etl@host',
      'open http://localhost:PORT\nthen mail ops@example.com',
      'jdbc:oracle:thin:@//db:1521/orcl failed for ops@corp',
      'https://docs.example.com/x and a@b',
    ]) {
      expect(maskSecretText(plain), plain).toBe(plain);
      expect(withoutUserInfo(plain), plain).toBe(plain);
    }
  });
});

describe('maskSecretText: secrets in values (L1, L7)', () => {
  it.each([
    ['-Dfoo.pwd=LEAK -Xmx1g', `-Dfoo.pwd=${REDACTED} -Xmx1g`],
    ['-Ddb.passphrase=LEAK', `-Ddb.passphrase=${REDACTED}`],
    ['-Dfoo.pwd="a b" -Dx=1', `-Dfoo.pwd=${REDACTED} -Dx=1`],
    ['jdbc:sqlserver://h:1433;user=sa;pwd=LEAK;encrypt=true', `jdbc:sqlserver://h:1433;user=sa;pwd=${REDACTED};encrypt=true`],
    ['jdbc:sqlserver://h:1433;password={LE;AK};db=x', `jdbc:sqlserver://h:1433;password=${REDACTED};db=x`],
    ['jdbc:oracle:thin:scott/LEAK@db:1521/orcl', `jdbc:oracle:thin:scott/${REDACTED}@db:1521/orcl`],
    ['thrift://host:9083?auth=LEAK', `thrift://host:9083?auth=${REDACTED}`],
    ['https://h/x?a=1&password=LEAK&b=2', `https://h/x?a=1&password=${REDACTED}&b=2`],
    ['https://h/x?token=LEAK#f', `https://h/x?token=${REDACTED}#f`],
    ['http://h/?access_token=LEAK', `http://h/?access_token=${REDACTED}`],
    ['http://host/api;jsessionid=LEAK', `http://host/api;jsessionid=${REDACTED}`],
    ['login failed: password=LEAK', `login failed: password=${REDACTED}`],
    ['dapi0123456789abcdef0123456789abcdef', REDACTED],
    ['Bearer ya29.a0AfH6SMBx-LEAK_x.y', `Bearer ${REDACTED}`],
    ['key AKIAIOSFODNN7EXAMPLE used', `key ${REDACTED} used`],
    ['java.sql.SQLException: cannot connect to jdbc:postgresql://etl:LEAK@db:5432/dw', `java.sql.SQLException: cannot connect to jdbc:postgresql://etl:${REDACTED}@db:5432/dw`],
    // A password holding white space, which ends a URL in a text (spacedSpan).
    ['jdbc:postgresql://user:pa ss@host/db', `jdbc:postgresql://user:${REDACTED}@host/db`],
    ['https://u:my secret@h', `https://u:${REDACTED}@h`],
    ['https://u:a\tb c d@h/x', `https://u:${REDACTED}@h/x`],
    ['java.sql.SQLException: cannot connect to jdbc:postgresql://etl:pa ss word@db:5432/dw as etl', `java.sql.SQLException: cannot connect to jdbc:postgresql://etl:${REDACTED}@db:5432/dw as etl`],
    ['thrift://u:p 1@h1:9083,thrift://v:p 2@h2:9083', `thrift://u:${REDACTED}@h1:9083,thrift://v:${REDACTED}@h2:9083`],
    ['{"a":"https://u:my secret@h","b":"x@y"}', `{"a":"https://u:${REDACTED}@h","b":"x@y"}`],
    ['jdbc:oracle:thin:scott/ti ger@db:1521/orcl', `jdbc:oracle:thin:scott/${REDACTED}@db:1521/orcl`],
    // Which `@` ends it cannot be told: to the last one on the line, more hidden rather than part of a password shown.
    ['https://u:pa ss@h failed for ops@example.com', `https://u:${REDACTED}@example.com`],
  ])('masks %s', (text, masked) => {
    expect(maskSecretText(text)).toBe(masked);
    // Masking twice changes nothing: a stored text can be masked again, a masked URL keeps its identity.
    expect(maskSecretText(masked)).toBe(masked);
  });

  it('leaves ordinary values exactly as they are', () => {
    for (const v of [
      '-XX:+UseG1GC -Dlog4j.configuration=file:/etc/log4j.properties -Djava.security.auth.login.config=/etc/jaas.conf -Dcom.sun.management.jmxremote.authenticate=false',
      'jdbc:sqlserver://h:1433;user=sa;databaseName=dw',
      'mongodb://etl@m1:27017/db?authSource=admin&authMechanism=SCRAM-SHA-256',
      'jdbc:oracle:thin:@//db:1521/orcl',
      'org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider',
      'spark.sql.shuffle.partitions=200',
      'dapi-not-a-token',
    ])
      expect(maskSecretText(v)).toBe(v);
  });

  it('never runs past a quote: safe on a JSON text, an escaped one included', () => {
    const json = JSON.stringify({ a: 'x?token=LEAK', b: 'keep', c: JSON.stringify({ url: 'http://h/?access_token=LEAK2' }) });
    const parsed = JSON.parse(maskSecretText(json)) as { a: string; b: string; c: string };
    expect(parsed).toEqual({ a: `x?token=${REDACTED}`, b: 'keep', c: JSON.stringify({ url: `http://h/?access_token=${REDACTED}` }) });
  });
});

/**
 * How many times longer one text of `k` pieces (`text(k)`) takes to `read` than 20 texts of k/20 pieces
 * (as long in all): about 1 when each piece is read once, about 20 when each is read on to the text's end.
 * Timed against a baseline in the same run, not against a budget, so that a loaded machine slows both
 * alike (read once, 1-3.5 on two busy cores; read to the end, 10-31). A reading near the bound of 5 is
 * timed again, up to three times: one pause of the machine is not a slowdown.
 */
function slowdown(text: (k: number) => string, read: (text: string) => unknown, k: number): number {
  const time = (f: () => void): number => {
    const started = performance.now();
    f();
    return performance.now() - started;
  };
  const whole = text(k);
  const parts = Array.from({ length: 20 }, () => text(k / 20));
  const readParts = (): void => {
    for (const part of parts) read(part);
  };
  readParts();
  const baseline = Math.min(time(readParts), time(readParts), time(readParts));
  let taken = Infinity;
  for (let tries = 0; tries < 3; tries++) {
    taken = Math.min(taken, time(() => read(whole)));
    if (taken < 5 * baseline || taken >= 10 * baseline) break;
  }
  return taken / baseline;
}

describe('a long line is read once, not on to its end for each thing in it (slowdown: about 1 read once, about 20 not)', () => {
  // Each whole text below took seconds before secretText.ts read it by a scan: 14 s, 24 s, 10 s, 1.9 s and 5.8 s, in that order.
  it("Oracle URLs whose password holds white space: each looks for the line's last @, found once", () => {
    const line = (k: number): string => `a@b ${'jdbc:oracle:thin:u/p q '.repeat(k)}`;
    expect(maskSecretText(line(32_000))).toBe(line(32_000));
    expect(maskSecretText(`${line(32_000)}x@y`)).toBe(`a@b jdbc:oracle:thin:u/${REDACTED}@y`);
    expect(slowdown(line, maskSecretText, 32_000)).toBeLessThan(5);
  }, 120_000);

  it("Oracle URLs with no white space between them: each looks for the URL's last @, found once", () => {
    const line = (k: number): string => `a@b ${'jdbc:oracle:thin:u/p'.repeat(k)}`;
    expect(maskSecretText(line(32_000))).toBe(line(32_000));
    expect(maskSecretText(`${line(32_000)}@h`)).toBe(`a@b jdbc:oracle:thin:u/${REDACTED}@h`);
    expect(slowdown(line, maskSecretText, 32_000)).toBeLessThan(5);
  }, 120_000);

  it('URLs whose user holds a ${env: with no }: each looks for the } in its own user information', () => {
    const line = (k: number): string => 'a://${env:X@h '.repeat(k);
    expect(maskSecretText(line(3))).toBe(`a://\${env:${REDACTED}@h `.repeat(3));
    expect(slowdown(line, maskSecretText, 256_000)).toBeLessThan(5);
  }, 120_000);

  it('SQL Server values that open a { with no } after them', () => {
    const line = (k: number): string => ';pwd={'.repeat(k);
    expect(maskSecretText(line(3))).toBe(`;pwd=${REDACTED}`.repeat(3));
    expect(slowdown(line, maskSecretText, 256_000)).toBeLessThan(5);
  }, 120_000);

  it('a property key holding many .executorEnv. and then a line break (environmentVariableOf)', () => {
    // The last line as long as the rest, that the key is read in time proportional to its length.
    const key = (k: number): string => `${'.executorEnv.x'.repeat(k)}\n${'x'.repeat(k)}`;
    expect(environmentVariableOf(key(3))).toBeUndefined();
    expect(environmentVariableOf('spark.executorEnv.DB_PASS')).toBe('DB_PASS');
    expect(environmentVariableOf('spark.x\nspark.driverEnv.A.executorEnv.B')).toBe('A.executorEnv.B');
    expect(slowdown(key, environmentVariableOf, 32_000)).toBeLessThan(5);
  }, 120_000);
});

describe('secretName', () => {
  it('reads the last word of a property, any word of an environment variable', () => {
    for (const n of ['spark.es.net.http.auth.pass', 'spark.redis.auth', 'spark.es.net.http.header.Authorization', 'spark.hadoop.fs.s3a.encryption.key', 'access_token', 'foo.pwd', 'db.passphrase'])
      expect(secretName(n), n).toBe(true);
    for (const n of ['spark.authenticate', 'spark.io.encryption.keySizeBits', 'spark.ssl.keyStore', 'spark.yarn.keytab', 'authSource', 'java.security.auth.login.config', 'spark.sql.hive.thriftServer.singleSession'])
      expect(secretName(n), n).toBe(false);
    for (const n of ['DB_PASS', 'MYSQL_PWD', 'PGPASS', 'GITHUB_PAT', 'AWS_SECRET_ACCESS_KEY', 'DB_PASSWORD_2', 'SPARK_AUTH_TOKEN']) expect(secretName(n, 'any'), n).toBe(true);
    for (const n of ['JAVA_HOME', 'PYTHONPATH', 'PATH', 'TOKENIZERS_PARALLELISM', 'KRB5_KEYTAB']) expect(secretName(n, 'any'), n).toBe(false);
  });
});
